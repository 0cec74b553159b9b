package org.lifetimecircle.secrets.policy;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A YAML node together with the file and dotted field path that every error about it must name. */
final class PolicyNode {

    private static final int MAX_SEGMENT_SHOWN = 64;

    private final String file;
    private final String path;
    private final JsonNode node;

    private PolicyNode(String file, String path, JsonNode node) {
        this.file = file;
        this.path = path;
        this.node = node;
    }

    static PolicyNode root(String file, JsonNode node) {
        return new PolicyNode(file, "", node);
    }

    String path() {
        return path;
    }

    JsonNode json() {
        return node;
    }

    PolicyException error(String reason) {
        return new PolicyException(file, path.isEmpty() ? "(yaml)" : path, reason);
    }

    /** The path of a key below {@code parent}; keys are shown cleaned up and cut short, never verbatim garbage. */
    static String child(String parent, String key) {
        StringBuilder shown = new StringBuilder();
        for (int i = 0; i < key.length() && shown.length() < MAX_SEGMENT_SHOWN; i++) {
            char c = key.charAt(i);
            shown.append(Character.isISOControl(c) ? '?' : c);
        }
        if (key.length() > MAX_SEGMENT_SHOWN) {
            shown.append("...");
        }
        return parent.isEmpty() ? shown.toString() : parent + "." + shown;
    }

    static String element(String parent, int index) {
        return parent + "[" + index + "]";
    }

    /**
     * Requires a mapping whose keys are all in {@code allowed}; a misspelt key is an error rather than a
     * silently ignored setting.
     */
    PolicyNode mapping(Collection<String> allowed, String hint) {
        if (!node.isObject()) {
            throw error(hint);
        }
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            if (!allowed.contains(e.getKey())) {
                throw new PolicyNode(file, child(path, e.getKey()), e.getValue())
                        .error("unknown field; allowed here: " + String.join(", ", allowed));
            }
        }
        return this;
    }

    /** The entries of a mapping in file order. */
    Map<String, PolicyNode> entries(String hint) {
        if (!node.isObject()) {
            throw error(hint);
        }
        Map<String, PolicyNode> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonNode> e : node.properties()) {
            out.put(e.getKey(), new PolicyNode(file, child(path, e.getKey()), e.getValue()));
        }
        return out;
    }

    List<PolicyNode> elements(String hint) {
        if (!node.isArray()) {
            throw error(hint);
        }
        List<PolicyNode> out = new ArrayList<>();
        for (int i = 0; i < node.size(); i++) {
            out.add(new PolicyNode(file, element(path, i), node.get(i)));
        }
        return out;
    }

    /**
     * An optional key. An explicit null is refused: it usually means a value was forgotten, and silently
     * applying the default would hide that.
     */
    Optional<PolicyNode> get(String key) {
        JsonNode value = node.get(key);
        if (value == null) {
            return Optional.empty();
        }
        PolicyNode child = new PolicyNode(file, child(path, key), value);
        if (value.isNull()) {
            throw child.error("is empty; give a value or remove the key to use the default");
        }
        return Optional.of(child);
    }

    PolicyNode require(String key) {
        JsonNode value = node.get(key);
        PolicyNode child = new PolicyNode(file, child(path, key), value);
        if (value == null || value.isNull()) {
            throw child.error("required");
        }
        return child;
    }

    /** The text of a YAML string; anything else (number, boolean, mapping, list) is refused with {@code hint}. */
    String text(String hint) {
        if (!node.isTextual()) {
            throw error(hint);
        }
        return node.textValue();
    }

    /** A YAML boolean ({@code true} or {@code false}); a string "true" or a number is refused with {@code hint}. */
    boolean bool(String hint) {
        if (!node.isBoolean()) {
            throw error(hint);
        }
        return node.booleanValue();
    }
}
