package org.lifetimecircle.secrets.policy;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.core.exc.StreamReadException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import com.fasterxml.jackson.dataformat.yaml.YAMLParser;
import java.io.IOException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.error.YAMLException;
import org.yaml.snakeyaml.reader.ReaderException;

/**
 * Reads a policy's YAML into a Jackson tree, strictly: one document, no duplicate keys, no aliases, no
 * tags. Errors carry a line number and never the text of the offending line, which may hold a value.
 */
final class YamlTree {

    private static final YAMLFactory FACTORY = YAMLFactory.builder().build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final String STR_TAG = "tag:yaml.org,2002:str";
    private static final int MAX_DEPTH = 16;
    private static final int MAX_PROBLEM_SHOWN = 160;
    // Parser problems quote the text at fault ('...'); token kinds such as '<scalar>' and single punctuation
    // characters such as ']' are kept, as they help and say nothing about a value.
    private static final Pattern QUOTED = Pattern.compile("'([^']*)'|\"([^\"]*)\"");
    private static final Pattern HARMLESS_QUOTE = Pattern.compile("<[a-z ]+>|[^\\p{Alnum}\\s]");
    private static final Pattern ESCAPE_CHAR = Pattern.compile("character \\S+\\(\\d+\\)");

    private YamlTree() {
    }

    static JsonNode read(String file, String yaml) {
        // Duplicate keys are detected here while walking, rather than with the parser's
        // STRICT_DUPLICATE_DETECTION, so the error can name the full field path.
        try (YAMLParser parser = (YAMLParser) FACTORY.createParser(yaml)) {
            JsonToken first = parser.nextToken();
            if (first == null) {
                throw new PolicyException(file, "(yaml)",
                        "file is empty; a policy is a mapping starting with environment:");
            }
            JsonNode root = new Walk(file, parser).value(first, "", 0);
            if (parser.nextToken() != null) {
                throw new PolicyException(file, "(yaml)", "more than one YAML document (---); one policy per file");
            }
            return root;
        } catch (StreamReadException e) {
            throw syntaxError(file, yaml, e, e.getLocation());
        } catch (YAMLException e) {
            throw syntaxError(file, yaml, e, null);
        } catch (IOException e) {
            throw new PolicyException(file, "(yaml)", "cannot be read: " + e.getClass().getSimpleName());
        }
    }

    private static PolicyException syntaxError(String file, String yaml, Exception e, JsonLocation location) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof ReaderException r) {
                // Raised before tokenizing, so the parser's own location is still the start of the file.
                return new PolicyException(file, "(yaml)", "invalid YAML at " + where(yaml, r.getPosition())
                        + ": contains a character YAML does not allow (a control character?)");
            }
            if (t instanceof MarkedYAMLException m && m.getProblemMark() != null) {
                StringBuilder reason = new StringBuilder("invalid YAML at ").append(where(m.getProblemMark()));
                if (m.getProblem() != null) {
                    reason.append(": ").append(redact(m.getProblem()));
                }
                if (m.getContext() != null && m.getContextMark() != null) {
                    reason.append(" (").append(redact(m.getContext())).append(" started at ")
                            .append(where(m.getContextMark())).append(')');
                }
                return new PolicyException(file, "(yaml)", reason.toString());
            }
        }
        if (location != null && location.getLineNr() > 0) {
            return new PolicyException(file, "(yaml)",
                    "invalid YAML at line " + location.getLineNr() + ", column " + location.getColumnNr());
        }
        return new PolicyException(file, "(yaml)", "invalid YAML");
    }

    private static String where(Mark mark) {
        return "line " + (mark.getLine() + 1) + ", column " + (mark.getColumn() + 1);
    }

    /** Line and column of the code point at {@code position}, counted the way SnakeYAML counts it. */
    private static String where(String yaml, int position) {
        int line = 1;
        int column = 1;
        int[] codePoints = yaml.codePoints().limit(Math.max(0, position)).toArray();
        for (int c : codePoints) {
            if (c == '\n') {
                line++;
                column = 1;
            } else {
                column++;
            }
        }
        return "line " + line + ", column " + column;
    }

    /** Keeps the parser's description of the problem but drops any text it quotes from the file. */
    static String redact(String problem) {
        String out = ESCAPE_CHAR.matcher(problem).replaceAll("character");
        out = QUOTED.matcher(out).replaceAll(m -> {
            String inside = m.group(1) != null ? m.group(1) : m.group(2);
            return HARMLESS_QUOTE.matcher(inside).matches() ? Matcher.quoteReplacement(m.group()) : "'...'";
        });
        StringBuilder clean = new StringBuilder();
        for (int i = 0; i < out.length() && clean.length() < MAX_PROBLEM_SHOWN; i++) {
            char c = out.charAt(i);
            clean.append(Character.isISOControl(c) ? ' ' : c);
        }
        return clean.toString().trim();
    }

    /** One pass over the token stream, building the tree and refusing what Jackson would accept silently. */
    private record Walk(String file, YAMLParser parser) {

        JsonNode value(JsonToken token, String path, int depth) throws IOException {
            String field = path.isEmpty() ? "(yaml)" : path;
            if (depth > MAX_DEPTH) {
                throw new PolicyException(file, field, "nested too deeply");
            }
            // Jackson turns an alias into the alias's name as a plain string: never what the author meant.
            if (parser.isCurrentAlias()) {
                throw new PolicyException(file, field, "YAML aliases (*name) are not supported; write the value out");
            }
            String tag = parser.getTypeId();
            if (tag != null && !tag.equals(STR_TAG)) {
                throw new PolicyException(file, field, "YAML tags (!name) are not supported; quote the value instead");
            }
            switch (token) {
                case START_OBJECT:
                    return mapping(path, depth);
                case START_ARRAY:
                    return sequence(path, depth);
                case VALUE_STRING:
                    return NODES.textNode(parser.getText());
                case VALUE_TRUE:
                case VALUE_FALSE:
                    return NODES.booleanNode(token == JsonToken.VALUE_TRUE);
                case VALUE_NULL:
                    return NODES.nullNode();
                case VALUE_NUMBER_INT:
                    return NODES.numberNode(parser.getBigIntegerValue());
                case VALUE_NUMBER_FLOAT:
                    return floatNode();
                default:
                    throw new PolicyException(file, field, "unsupported YAML content");
            }
        }

        private ObjectNode mapping(String path, int depth) throws IOException {
            ObjectNode node = NODES.objectNode();
            JsonToken token;
            while ((token = parser.nextToken()) == JsonToken.FIELD_NAME) {
                String key = parser.currentName();
                String childPath = PolicyNode.child(path, key);
                if (node.has(key)) {
                    throw new PolicyException(file, childPath,
                            "duplicate key (line " + parser.currentTokenLocation().getLineNr() + ")");
                }
                node.set(key, value(parser.nextToken(), childPath, depth + 1));
            }
            if (token != JsonToken.END_OBJECT) {
                throw new PolicyException(file, path.isEmpty() ? "(yaml)" : path, "unsupported YAML mapping");
            }
            return node;
        }

        private ArrayNode sequence(String path, int depth) throws IOException {
            ArrayNode node = NODES.arrayNode();
            JsonToken token;
            while ((token = parser.nextToken()) != JsonToken.END_ARRAY) {
                if (token == null) {
                    throw new PolicyException(file, path, "unterminated YAML sequence");
                }
                node.add(value(token, PolicyNode.element(path, node.size()), depth + 1));
            }
            return node;
        }

        /** Only "is it a number" matters for floats; .inf and .nan do not decode, and need not. */
        private JsonNode floatNode() throws IOException {
            try {
                return NODES.numberNode(parser.getDoubleValue());
            } catch (StreamReadException | NumberFormatException e) {
                return NODES.numberNode(Double.NaN);
            }
        }
    }
}
