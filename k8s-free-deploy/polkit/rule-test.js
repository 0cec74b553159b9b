// Cases for 50-ltc-secrets-restart-api.rules, run by ../check.sh with Debian's `duk`, the Duktape
// engine that polkitd itself embeds, so a syntax error here is one polkitd would report too:
//   duk rule-test.js 50-ltc-secrets-restart-api.rules -e 'runRuleTests(["lifetimecircle-api.service"])'
// The argument adds units that must be allowed (check.sh passes those named by the policies).
// Not a polkit rules file (no .rules suffix): polkitd ignores it even if copied along.

var rules = [];
var polkit = {
    Result: { NO: "no", YES: "yes", AUTH_SELF: "auth_self", AUTH_SELF_KEEP: "auth_self_keep",
              AUTH_ADMIN: "auth_admin", AUTH_ADMIN_KEEP: "auth_admin_keep", NOT_HANDLED: null },
    addRule: function (rule) { rules.push(rule); },
    addAdminRule: function () { throw new Error("this file must not define admin rules"); },
    log: function () {},
    spawn: function () { throw new Error("rules must not spawn programs"); }
};

function decide(user, actionId, details) {
    var action = { id: actionId, lookup: function (key) { return details[key]; } };
    var subject = { user: user, pid: 4242, groups: [user], seat: null, session: null, local: false,
                    active: false, isInGroup: function (g) { return g === user; },
                    isInNetGroup: function () { return false; } };
    for (var i = 0; i < rules.length; i++) {
        var result = rules[i](action, subject);
        if (result !== undefined && result !== null) {
            return result;
        }
    }
    return "not-handled";
}

function runRuleTests(mustAllow) {
    var manage = "org.freedesktop.systemd1.manage-units";
    var api = "lifetimecircle-api.service";
    var cases = [
        // [user, action, verb, unit, expected]
        ["ltc-secrets", manage, "restart", api, "yes"],
        ["ltc-secrets", manage, "restart", "lifetimecircle-api-staging.service", "yes"],
        // any other verb on the same unit
        ["ltc-secrets", manage, "stop", api, "not-handled"],
        ["ltc-secrets", manage, "start", api, "not-handled"],
        ["ltc-secrets", manage, "reload", api, "not-handled"],
        ["ltc-secrets", manage, "reload-or-restart", api, "not-handled"],
        ["ltc-secrets", manage, "try-restart", api, "not-handled"],
        ["ltc-secrets", manage, "kill", api, "not-handled"],
        ["ltc-secrets", manage, undefined, api, "not-handled"],
        // any other unit
        ["ltc-secrets", manage, "restart", "ltc-secrets.service", "not-handled"],
        ["ltc-secrets", manage, "restart", "nginx.service", "not-handled"],
        ["ltc-secrets", manage, "restart", "sshd.service", "not-handled"],
        ["ltc-secrets", manage, "restart", "lifetimecircle-api.service.d", "not-handled"],
        ["ltc-secrets", manage, "restart", "xlifetimecircle-api.service", "not-handled"],
        ["ltc-secrets", manage, "restart", undefined, "not-handled"],
        // any other user
        ["lifetimecircle", manage, "restart", api, "not-handled"],
        ["lifetimecircle-staging", manage, "restart", api, "not-handled"],
        ["lifetimecircle-staging", manage, "restart", "lifetimecircle-api-staging.service", "not-handled"],
        ["lifetimecircle", manage, "restart", "lifetimecircle-api-staging.service", "not-handled"],
        ["ltc-secrets2", manage, "restart", api, "not-handled"],
        ["nobody", manage, "restart", api, "not-handled"],
        // any other action
        ["ltc-secrets", "org.freedesktop.systemd1.manage-unit-files", "restart", api, "not-handled"],
        ["ltc-secrets", "org.freedesktop.systemd1.reload-daemon", "restart", api, "not-handled"],
        ["ltc-secrets", "org.freedesktop.systemd1.set-environment", "restart", api, "not-handled"],
        ["ltc-secrets", "org.freedesktop.login1.reboot", "restart", api, "not-handled"]
    ];
    var extra = mustAllow || [];
    for (var e = 0; e < extra.length; e++) {
        cases.push(["ltc-secrets", manage, "restart", extra[e], "yes"]);
    }
    if (rules.length !== 1) {
        throw new Error("expected exactly one polkit.addRule, got " + rules.length);
    }
    var failed = 0;
    for (var i = 0; i < cases.length; i++) {
        var c = cases[i];
        var got = decide(c[0], c[1], { verb: c[2], unit: c[3] });
        if (got !== c[4]) {
            failed++;
            print("polkit rule: user=" + c[0] + " action=" + c[1] + " verb=" + c[2] + " unit=" + c[3] +
                  ": expected " + c[4] + ", got " + got);
        }
    }
    if (failed > 0) {
        throw new Error(failed + " of " + cases.length + " polkit cases failed");
    }
    print("polkit rule: " + cases.length + " cases as expected");
}
