package org.lifetimecircle.secrets.policy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.FileSystems;
import java.nio.file.Path;
import java.nio.file.attribute.UserPrincipalNotFoundException;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/** Turns a policy's YAML tree into an {@link EnvironmentPolicy}, checking node by node so errors name the field. */
final class PolicyReader {

    private static final List<String> TOP = List.of("environment", "envFile", "variables", "secrets", "app", "paths",
            "grants", "approvals");
    private static final List<String> ENV_FILE = List.of("path", "mode", "group", "onDrift");
    private static final List<String> SECRET = List.of("length", "alphabet", "rotateEvery", "warnBefore",
            "previousGrace", "exportPreviousAs", "whenOverdue");
    private static final List<String> APP = List.of("restartCommand", "healthUrl", "restartTimeout", "healthTimeout",
            "user");
    private static final List<String> PATHS = List.of("data", "storage");
    private static final List<String> GRANTS = List.of("maxTtl");
    private static final List<String> APPROVALS = List.of("grants", "rotations", "expireAfter");

    private static final String MODE_HINT = "must be a quoted string \"0600\" or \"0640\"";
    private static final String STRING_HINT = "must be a string; quote it so YAML does not reinterpret it";
    private static final String DURATION_HINT = "must be an ISO-8601 duration such as P90D, PT8H or PT5S";
    // Duration.parse knows no months, years or weeks; Period would, but their length varies.
    private static final Pattern CALENDAR_UNITS = Pattern.compile("[+-]?P[^T]*[YMW].*");

    private PolicyReader() {
    }

    static EnvironmentPolicy read(Path sourceFile, String file, String expectedEnvironment, JsonNode tree) {
        try {
            return readChecked(sourceFile, file, expectedEnvironment, tree);
        } catch (IllegalArgumentException e) {
            // Every rule is checked in readChecked with its field path; this only keeps a rule the reader missed from
            // escaping as anything but a PolicyException. Constructor messages are "field: reason", never values.
            String message = String.valueOf(e.getMessage());
            int colon = message.indexOf(": ");
            throw colon < 0 ? new PolicyException(file, "(policy)", message)
                    : new PolicyException(file, message.substring(0, colon), message.substring(colon + 2));
        }
    }

    private static EnvironmentPolicy readChecked(Path sourceFile, String file, String expectedEnvironment,
                                                 JsonNode tree) {
        PolicyNode root = PolicyNode.root(file, tree)
                .mapping(TOP, "must be a mapping with the keys " + String.join(", ", TOP));
        String environment = environment(root.require("environment"), expectedEnvironment);
        EnvFilePolicy envFile = envFile(root.require("envFile"));
        Map<String, String> variables = root.get("variables").map(PolicyReader::variables).orElseGet(Map::of);
        Map<String, SecretPolicy> secrets = secrets(root.require("secrets"));
        Rules.nameClash(variables.keySet(), secrets.values()).ifPresent(p -> {
            throw new PolicyException(file, p.field(), p.reason());
        });
        Optional<AppPolicy> app = root.get("app").map(PolicyReader::app);
        Optional<PathsPolicy> paths = root.get("paths").map(PolicyReader::paths);
        Optional<GrantsPolicy> grants = root.get("grants").map(PolicyReader::grants);
        Optional<ApprovalsPolicy> approvals = root.get("approvals").map(PolicyReader::approvals);
        return new EnvironmentPolicy(environment, sourceFile, envFile, new TreeMap<>(variables), new TreeMap<>(secrets),
                app, paths, grants, approvals);
    }

    private static String environment(PolicyNode node, String expected) {
        String environment = node.text("must be a string matching [a-z0-9-]{1,32}");
        fail(node, Rules.environmentProblem(environment));
        if (!environment.equals(expected)) {
            // The file name is what operators see in listings; letting them differ invites editing the wrong one.
            throw node.error("must equal the file name (" + expected + ".yaml)");
        }
        return environment;
    }

    private static EnvFilePolicy envFile(PolicyNode node) {
        node.mapping(ENV_FILE, "must be a mapping with path and mode");
        PolicyNode pathNode = node.require("path");
        String path = pathNode.text("must be a string holding an absolute path");
        fail(pathNode, Rules.absolutePathProblem(path));
        PolicyNode modeNode = node.require("mode");
        // An unquoted 0600 is an octal integer to YAML: refuse it rather than guess what was meant.
        FileMode mode = FileMode.parse(modeNode.text(MODE_HINT)).orElseThrow(() -> modeNode.error(MODE_HINT));
        Optional<String> group = node.get("group").map(g -> group(g, mode));
        DriftAction onDrift = node.get("onDrift").map(n -> choice(n, DriftAction.values(), DriftAction::yamlName))
                .orElse(DriftAction.REPAIR);
        return new EnvFilePolicy(path, mode, group, onDrift);
    }

    private static String group(PolicyNode node, FileMode mode) {
        String group = node.text("must be a string naming a group");
        if (mode != FileMode.M0640) {
            throw node.error("only allowed with mode \"0640\"");
        }
        fail(node, Rules.groupProblem(group));
        try {
            FileSystems.getDefault().getUserPrincipalLookupService().lookupPrincipalByGroupName(group);
        } catch (UserPrincipalNotFoundException e) {
            throw node.error("group " + group + " does not exist on this host");
        } catch (IOException | UnsupportedOperationException e) {
            throw node.error("cannot look up group " + group + ": " + e.getClass().getSimpleName());
        }
        return group;
    }

    private static Map<String, String> variables(PolicyNode node) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, PolicyNode> e : node.entries("must be a mapping of NAME: value").entrySet()) {
            PolicyNode value = e.getValue();
            fail(value, Rules.variableNameProblem(e.getKey()));
            String text = value.text(STRING_HINT);
            fail(value, Rules.variableValueProblem(text));
            out.put(e.getKey(), text);
        }
        return out;
    }

    private static Map<String, SecretPolicy> secrets(PolicyNode node) {
        Map<String, PolicyNode> entries = node.entries("must be a mapping of NAME: {rotateEvery: ...}");
        if (entries.isEmpty()) {
            throw node.error("at least one secret is required");
        }
        Map<String, SecretPolicy> out = new LinkedHashMap<>();
        for (Map.Entry<String, PolicyNode> e : entries.entrySet()) {
            out.put(e.getKey(), secret(e.getKey(), e.getValue()));
        }
        return out;
    }

    private static SecretPolicy secret(String name, PolicyNode node) {
        fail(node, Rules.variableNameProblem(name));
        node.mapping(SECRET, "must be a mapping with at least rotateEvery");
        int length = node.get("length").map(PolicyReader::length).orElse(Rules.DEFAULT_SECRET_LENGTH);
        Alphabet alphabet = node.get("alphabet").map(n -> choice(n, Alphabet.values(), Alphabet::yamlName))
                .orElse(Alphabet.BASE64URL);
        PolicyNode rotateNode = node.require("rotateEvery");
        Duration rotateEvery = duration(rotateNode);
        Duration warnBefore;
        Optional<PolicyNode> warnNode = node.get("warnBefore");
        if (warnNode.isPresent()) {
            warnBefore = duration(warnNode.get());
            if (warnBefore.compareTo(rotateEvery) >= 0) {
                throw warnNode.get().error("must be shorter than rotateEvery");
            }
        } else {
            warnBefore = rotateEvery.dividedBy(10);
            if (warnBefore.isZero()) {
                throw rotateNode.error("too short to derive warnBefore (a tenth of it); set warnBefore");
            }
        }
        Duration previousGrace = node.get("previousGrace").map(PolicyReader::duration)
                .orElse(Rules.DEFAULT_PREVIOUS_GRACE);
        Optional<String> exportPreviousAs = node.get("exportPreviousAs").map(n -> {
            String export = n.text("must be a string naming a variable");
            fail(n, Rules.variableNameProblem(export));
            fail(n, export.equals(name) ? Rules.OWN_NAME_EXPORT : null);
            return export;
        });
        OverdueAction whenOverdue = node.get("whenOverdue")
                .map(n -> choice(n, OverdueAction.values(), OverdueAction::yamlName)).orElse(OverdueAction.FLAG);
        return new SecretPolicy(name, length, alphabet, rotateEvery, warnBefore, previousGrace, exportPreviousAs,
                whenOverdue);
    }

    private static int length(PolicyNode node) {
        JsonNode json = node.json();
        if (!json.isIntegralNumber() || !json.canConvertToLong()) {
            throw node.error(Rules.SECRET_LENGTH_RANGE);
        }
        fail(node, Rules.secretLengthProblem(json.longValue()));
        return json.intValue();
    }

    private static AppPolicy app(PolicyNode node) {
        node.mapping(APP, "must be a mapping with restartCommand and healthUrl");
        PolicyNode commandNode = node.require("restartCommand");
        List<String> command = new ArrayList<>();
        for (PolicyNode arg : commandNode.elements("must be a list such as [\"systemctl\", \"restart\", \"my-app\"]")) {
            String text = arg.text(STRING_HINT);
            fail(arg, Rules.commandArgumentProblem(text));
            command.add(text);
        }
        if (command.isEmpty()) {
            throw commandNode.error("must not be empty");
        }
        PolicyNode urlNode = node.require("healthUrl");
        URI healthUrl;
        try {
            healthUrl = new URI(urlNode.text("must be a string holding an http or https URL"));
        } catch (URISyntaxException e) {
            throw urlNode.error("must be a valid http or https URL, e.g. http://127.0.0.1:8000/health");
        }
        fail(urlNode, Rules.healthUrlProblem(healthUrl));
        Duration restartTimeout = node.get("restartTimeout").map(PolicyReader::duration)
                .orElse(Rules.DEFAULT_RESTART_TIMEOUT);
        Duration healthTimeout = node.get("healthTimeout").map(PolicyReader::duration)
                .orElse(Rules.DEFAULT_HEALTH_TIMEOUT);
        Optional<String> user = node.get("user").map(u -> {
            String name = u.text("must be a string naming the user the app runs as");
            fail(u, Rules.userProblem(name));
            return name;
        });
        return new AppPolicy(command, healthUrl, restartTimeout, healthTimeout, user);
    }

    private static PathsPolicy paths(PolicyNode node) {
        node.mapping(PATHS, "must be a mapping with data and/or storage");
        return new PathsPolicy(node.get("data").map(PolicyReader::absolutePath),
                node.get("storage").map(PolicyReader::absolutePath));
    }

    private static GrantsPolicy grants(PolicyNode node) {
        node.mapping(GRANTS, "must be a mapping with maxTtl");
        return new GrantsPolicy(node.get("maxTtl").map(PolicyReader::duration));
    }

    private static ApprovalsPolicy approvals(PolicyNode node) {
        node.mapping(APPROVALS, "must be a mapping with grants, rotations and/or expireAfter");
        boolean grants = node.get("grants").map(n -> n.bool("must be true or false")).orElse(false);
        boolean rotations = node.get("rotations").map(n -> n.bool("must be true or false")).orElse(false);
        Duration expireAfter = node.get("expireAfter").map(n -> {
            Duration d = duration(n);
            fail(n, ApprovalsPolicy.expireAfterProblem(d));
            return d;
        }).orElse(ApprovalsPolicy.DEFAULT_EXPIRE_AFTER);
        return new ApprovalsPolicy(grants, rotations, expireAfter);
    }

    private static String absolutePath(PolicyNode node) {
        String path = node.text("must be a string holding an absolute path");
        fail(node, Rules.absolutePathProblem(path));
        return path;
    }

    private static Duration duration(PolicyNode node) {
        String text = node.text(DURATION_HINT);
        if (CALENDAR_UNITS.matcher(text.toUpperCase(Locale.ROOT)).matches()) {
            throw node.error("use days, e.g. P30D");
        }
        Duration duration;
        try {
            duration = Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw node.error(DURATION_HINT);
        }
        fail(node, Rules.positiveProblem(duration));
        return duration;
    }

    /** Enum values are written in lower case, exactly; the error lists what is allowed. */
    private static <E extends Enum<E>> E choice(PolicyNode node, E[] values,
                                                Function<E, String> yamlName) {
        String allowed = Arrays.stream(values).map(yamlName).collect(Collectors.joining(", "));
        String hint = "must be one of: " + allowed;
        String text = node.text(hint);
        for (E value : values) {
            if (yamlName.apply(value).equals(text)) {
                return value;
            }
        }
        throw node.error(hint);
    }

    private static void fail(PolicyNode node, String problem) {
        if (problem != null) {
            throw node.error(problem);
        }
    }
}
