"""Tests of tools/ltcs that need no service: arguments, the token rules, formatting, the atomic write, and the
approval commands against a stand-in that answers what each test sets (FakeService).

Run from the repository root:
    python3 -m unittest discover -s tools -p 'test_*.py'

Everything that talks to the real service is tested against the packaged jar by LtcsCliIT (./mvnw verify).
"""

import hashlib
import http.server
import io
import json
import os
import stat
import tempfile
import threading
import unittest
import urllib.parse
from contextlib import redirect_stdout
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))


def load(name, path):
    loader = SourceFileLoader(name, path)
    module = module_from_spec(spec_from_loader(name, loader))
    loader.exec_module(module)
    return module


ltcs = load("ltcs", os.path.join(HERE, "ltcs"))


class Args:
    token_file = None


class FormattingTest(unittest.TestCase):
    def test_ages_have_two_units_at_most(self):
        self.assertEqual(ltcs.age(5), "5s")
        self.assertEqual(ltcs.age(65), "1m 5s")
        self.assertEqual(ltcs.age(3600 * 4 + 60 * 12 + 7), "4h 12m")
        self.assertEqual(ltcs.age(86400 * 3 + 3600 * 4 + 59), "3d 4h")
        self.assertEqual(ltcs.age(86400 * 90), "90d")
        self.assertEqual(ltcs.age(None), "-")

    def test_due_dates_say_how_far_away(self):
        ref = ltcs.parse_time("2026-03-01T00:00:00Z")
        self.assertEqual(ltcs.when("2026-03-04T04:00:00.123Z", ref), "2026-03-04 04:00 UTC (in 3d 4h)")
        self.assertEqual(ltcs.when("2026-02-28T22:00:00Z", ref), "2026-02-28 22:00 UTC (2h ago)")
        self.assertEqual(ltcs.when(None, ref), "-")

    def test_server_text_cannot_drive_the_terminal(self):
        self.assertEqual(ltcs.clean("ok\x1b[2Jmore\x07"), "ok?[2Jmore?")

    def test_tables_are_aligned(self):
        out = io.StringIO()
        ltcs.table(["A", "LONGER"], [["xx", "1"], ["y", "22"]], out)
        self.assertEqual(out.getvalue().splitlines(), ["A   LONGER", "xx  1", "y   22"])


class TokenTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)
        self.path = os.path.join(self.dir.name, "token")
        with open(self.path, "w") as f:
            f.write("ltcs_0123456789abcdef_secret\n")

    def read(self, env, token_file=None):
        args = Args()
        args.token_file = token_file
        with mock.patch.dict(os.environ, env, clear=True):
            return ltcs.read_token(args)

    def test_a_token_file_only_its_owner_can_read_is_used(self):
        os.chmod(self.path, 0o600)
        self.assertEqual(self.read({"LTCS_TOKEN_FILE": self.path}), "ltcs_0123456789abcdef_secret")
        os.chmod(self.path, 0o400)
        self.assertEqual(self.read({}, token_file=self.path), "ltcs_0123456789abcdef_secret")

    def test_a_token_file_others_can_read_is_refused_with_the_chmod(self):
        for mode in (0o644, 0o640, 0o604):
            os.chmod(self.path, mode)
            with self.assertRaises(ltcs.CliError) as e:
                self.read({"LTCS_TOKEN_FILE": self.path})
            self.assertEqual(e.exception.status, 2)
            self.assertIn("chmod 600 " + self.path, e.exception.message)
            self.assertNotIn("secret", e.exception.message.replace(self.path, ""))

    def test_no_token_or_two_sources_are_usage_errors(self):
        with self.assertRaises(ltcs.CliError) as e:
            self.read({})
        self.assertEqual(e.exception.status, 2)
        os.chmod(self.path, 0o600)
        with self.assertRaises(ltcs.CliError):
            self.read({"LTCS_TOKEN_FILE": self.path, "LTCS_TOKEN": "x"})
        self.assertEqual(self.read({"LTCS_TOKEN": " ltcs_ab_cd \n"}), "ltcs_ab_cd")
        with self.assertRaises(ltcs.CliError):
            self.read({"LTCS_TOKEN": "two words"})

    def test_no_token_on_the_command_line_and_it_is_never_echoed(self):
        for argv in (["status", "--token", "x"], ["status", "--token=x"], ["status", "ltcs_0123456789abcdef_zz"]):
            err = io.StringIO()
            with mock.patch("sys.stderr", err):
                self.assertEqual(ltcs.main(argv), 2)
            self.assertNotIn("ltcs_0123456789abcdef_zz", err.getvalue())


class UrlTest(unittest.TestCase):
    def url(self, value):
        with mock.patch.dict(os.environ, {"LTCS_URL": value}):
            return ltcs.base_url()

    def test_plain_http_only_to_this_host(self):
        self.assertEqual(self.url("http://127.0.0.1:8300/"), "http://127.0.0.1:8300")
        self.assertEqual(self.url("http://localhost:9000"), "http://localhost:9000")
        self.assertEqual(self.url("https://secrets.example.org"), "https://secrets.example.org")
        for bad in ("http://secrets.example.org", "ftp://127.0.0.1", "127.0.0.1:8300", "http://u@127.0.0.1"):
            with self.assertRaises(ltcs.CliError, msg=bad):
                self.url(bad)


class ParserTest(unittest.TestCase):
    def test_json_is_accepted_before_and_after_the_command(self):
        p = ltcs.build_parser()
        self.assertTrue(p.parse_args(["status", "--json"]).json)
        self.assertTrue(p.parse_args(["--json", "status", "prod"]).json)
        self.assertFalse(hasattr(p.parse_args(["status"]), "json"))

    def test_every_command_has_help_with_an_example(self):
        p = ltcs.build_parser()
        sub = next(a for a in p._actions if a.dest == "command")
        for name, parser in sub.choices.items():
            self.assertIn("example:", parser.epilog, name)
            self.assertIn("ltcs " + name, parser.epilog, name)

    def test_usage_errors_exit_2(self):
        with mock.patch("sys.stderr", io.StringIO()):
            with self.assertRaises(SystemExit) as e:
                ltcs.build_parser().parse_args(["rotate", "prod"])
        self.assertEqual(e.exception.code, 2)


class AtomicWriteTest(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.TemporaryDirectory()
        self.addCleanup(self.dir.cleanup)

    def test_the_mode_is_exact_whatever_the_umask(self):
        for umask, mode in ((0o022, 0o600), (0o077, 0o640), (0o000, 0o600)):
            old = os.umask(umask)
            try:
                ltcs.write_atomically(self.dir.name, "f.env", bytearray(b"A=1\n"), mode, -1)
            finally:
                os.umask(old)
            st = os.stat(os.path.join(self.dir.name, "f.env"))
            self.assertEqual(stat.S_IMODE(st.st_mode), mode, oct(umask))
        self.assertEqual(os.listdir(self.dir.name), ["f.env"])

    def test_a_failed_write_leaves_no_temporary_file(self):
        missing = os.path.join(self.dir.name, "missing")
        with self.assertRaises(ltcs.CliError) as e:
            ltcs.write_atomically(missing, "f.env", bytearray(b"A=1\n"), 0o600, -1)
        self.assertEqual(e.exception.status, 1)
        self.assertEqual(os.listdir(self.dir.name), [])

    def test_a_symlink_at_file_is_refused_and_left_alone(self):
        target = os.path.join(self.dir.name, "elsewhere")
        link = os.path.join(self.dir.name, "f.env")
        os.symlink(target, link)
        with self.assertRaises(ltcs.CliError) as e:
            ltcs.existing_digest(link, 0o600, -1)
        self.assertEqual(e.exception.status, 2)
        self.assertTrue(os.path.islink(link))
        self.assertFalse(os.path.exists(target))

    def test_if_none_match_only_for_a_file_already_as_wanted(self):
        path = os.path.join(self.dir.name, "f.env")
        with open(path, "wb") as f:
            f.write(b"A=1\n")
        os.chmod(path, 0o644)
        self.assertIsNone(ltcs.existing_digest(path, 0o600, -1), "a readable file is fetched anew")
        os.chmod(path, 0o600)
        self.assertEqual(ltcs.existing_digest(path, 0o600, -1), hashlib.sha256(b"A=1\n").hexdigest())

    def test_stale_temporaries_of_a_killed_fetch_are_removed(self):
        stale = os.path.join(self.dir.name, ".f.env.ltcs-tmp-0123")
        fresh = os.path.join(self.dir.name, ".f.env.ltcs-tmp-4567")
        for p in (stale, fresh):
            with open(p, "w") as f:
                f.write("x")
        os.utime(stale, (0, 0))
        ltcs.remove_stale_temporaries(self.dir.name, "f.env")
        self.assertEqual(sorted(os.listdir(self.dir.name)), [".f.env.ltcs-tmp-4567"])


class SharedVerifierTest(unittest.TestCase):
    def test_the_offline_verification_is_audit_verifys_own_code(self):
        module = ltcs.audit_verify_module()
        self.assertEqual(os.path.realpath(module.__file__), os.path.join(os.path.realpath(HERE), "audit-verify"))
        self.assertTrue(callable(module.verify))

    def test_audit_verify_of_a_missing_file_is_a_usage_error(self):
        err = io.StringIO()
        with mock.patch("sys.stderr", err), redirect_stdout(io.StringIO()):
            self.assertEqual(ltcs.main(["audit", "verify", "/nonexistent/audit.jsonl"]), 2)


# ---------------------------------------------------------------- against a stand-in for the service

class FakeService:
    """An HTTP server on 127.0.0.1 that answers what a test sets with answer() and records every request."""

    def __init__(self):
        self.routes = {}
        self.requests = []
        fake = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def handle_any(self):
                url = urllib.parse.urlsplit(self.path)
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                fake.requests.append({"method": self.command, "path": url.path,
                                      "query": dict(urllib.parse.parse_qsl(url.query)),
                                      "body": json.loads(raw) if raw else None,
                                      "authorization": self.headers.get("Authorization")})
                status, body = fake.routes.get((self.command, url.path), (404, {
                    "type": "about:blank", "title": "Not Found", "status": 404, "code": "not-found",
                    "detail": "no such thing"}))
                payload = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/problem+json" if status >= 400 else "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            do_GET = do_POST = do_DELETE = handle_any

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        self.url = "http://127.0.0.1:%d" % self.server.server_address[1]

    def answer(self, method, path, status, body):
        self.routes[(method, path)] = (status, body)

    def refuse(self, method, path, status, code, detail):
        self.answer(method, path, status, {"type": "about:blank", "title": "Refused", "status": status,
                                           "code": code, "detail": detail})

    def close(self):
        self.server.shutdown()
        self.server.server_close()


APPROVAL_ID = "7e1d2c3b4a596870"


def approval(**fields):
    """An Approval as the spec describes it: every field present, null where not applicable."""
    a = {"id": APPROVAL_ID, "kind": "GRANT", "environment": "prod", "status": "PENDING",
         "summary": "grant env-file:read on prod to deployer-1 for PT1H", "requestedBy": "alice",
         "requestedAt": "2026-03-06T09:00:00Z", "expiresAt": "2099-03-07T09:00:00Z", "reason": "release 1.4",
         "principal": "deployer-1", "permission": "env-file:read", "ttl": "PT1H", "secret": None,
         "rotationKind": None, "decidedBy": None, "decidedAt": None, "decisionReason": None, "grantId": None,
         "rotationId": None}
    a.update(fields)
    return a


def rotation_approval(**fields):
    a = approval(kind="ROTATION", summary="MANUAL rotation of prod/LTC_SECRET_KEY", principal=None, permission=None,
                 ttl=None, secret="LTC_SECRET_KEY", rotationKind="MANUAL")
    a.update(fields)
    return a


def rotation(status, **fields):
    r = {"id": "9f2c41d07be85a13", "environment": "prod", "secret": "LTC_SECRET_KEY", "kind": "MANUAL",
         "status": status, "fromVersion": 3, "toVersion": 4, "requestedBy": "alice", "reason": "quarterly",
         "requestedAt": "2026-03-06T09:00:00Z", "finishedAt": "2026-03-06T09:00:02Z" if status != "RUNNING" else None,
         "approvedBy": "bob", "approvalId": APPROVAL_ID,
         "steps": [{"name": "generate", "status": "DONE", "at": "2026-03-06T09:00:01Z", "detail": None}]}
    r.update(fields)
    return r


class AgainstAFakeService(unittest.TestCase):
    def setUp(self):
        self.service = FakeService()
        self.addCleanup(self.service.close)

    def run_cli(self, *argv, stdin=None):
        """ltcs ARGV in this process: (exit status, stdout, stderr)."""
        out, err = io.StringIO(), io.StringIO()
        env = {"LTCS_URL": self.service.url, "LTCS_TOKEN": "ltcs_0123456789abcdef_test"}
        patches = [mock.patch.dict(os.environ, env, clear=True), mock.patch("sys.stdout", out),
                   mock.patch("sys.stderr", err)]
        if stdin is not None:
            patches.append(mock.patch("sys.stdin", io.TextIOWrapper(io.BytesIO(stdin))))
        for p in patches:
            p.start()
        try:
            status = ltcs.main(list(argv))
        except SystemExit as e:  # argparse's usage errors
            status = e.code
        finally:
            for p in reversed(patches):
                p.stop()
        return status, out.getvalue(), err.getvalue()

    def requests(self, method=None):
        return [r for r in self.service.requests if method is None or r["method"] == method]


class ApprovalCommandsTest(AgainstAFakeService):
    def test_approvals_is_a_table_with_the_filters_passed_on(self):
        self.service.answer("GET", "/api/v1/approvals", 200, [
            approval(summary="grant env-file:read on prod\x1b[2J to deployer-1 for PT1H"),
            rotation_approval(id="0123456789abcdef", status="APPROVED", decidedBy="bob", rotationId="9f2c41d07be85a13")])
        status, out, _ = self.run_cli("approvals", "--environment", "prod", "--status", "pending")
        self.assertEqual(status, 0)
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ["ID", "KIND", "ENV", "STATUS", "REQUESTED", "BY", "EXPIRES", "SUMMARY"])
        self.assertIn(APPROVAL_ID, lines[1])
        self.assertIn("GRANT", lines[1])
        self.assertIn("2099-03-07 09:00 UTC", lines[1])
        self.assertIn("prod?[2J to deployer-1", lines[1], "control characters from the server are replaced")
        self.assertNotIn("\x1b", out)
        self.assertRegex(lines[2], r"^0123456789abcdef\s+ROTATION\s+prod\s+APPROVED\s+alice\s+-\s+MANUAL rotation")
        self.assertEqual(self.requests()[0]["query"], {"environment": "prod", "status": "PENDING"})
        self.assertEqual(self.requests()[0]["authorization"], "Bearer ltcs_0123456789abcdef_test")

    def test_approvals_json_is_the_apis_list(self):
        self.service.answer("GET", "/api/v1/approvals", 200, [approval()])
        status, out, _ = self.run_cli("approvals", "--json")
        self.assertEqual(status, 0)
        self.assertEqual(json.loads(out), [approval()])

    def test_an_unknown_status_is_a_usage_error_before_any_request(self):
        status, _, err = self.run_cli("approvals", "--status", "WAITING")
        self.assertEqual(status, 2)
        self.assertIn("PENDING", err)
        self.assertEqual(self.requests(), [])

    def test_approving_a_grant_says_which_grant_is_in_force(self):
        path = "/api/v1/approvals/%s/approve" % APPROVAL_ID
        self.service.answer("POST", path, 200, approval(status="APPROVED", decidedBy="bob",
                                                        decidedAt="2026-03-06T09:05:00Z", decisionReason="ticket ok",
                                                        grantId="5b0c9e2f7a41d3c8"))
        status, out, _ = self.run_cli("approve", APPROVAL_ID, "--reason", "ticket ok")
        self.assertEqual(status, 0)
        self.assertEqual(out.strip(), "approved %s: grant 5b0c9e2f7a41d3c8 in force: deployer-1 may env-file:read "
                                      "on prod for PT1H from the approval on" % APPROVAL_ID)
        self.assertEqual(self.requests("POST")[0]["path"], path)
        self.assertEqual(self.requests("POST")[0]["body"], {"reason": "ticket ok"})

    def test_approving_a_rotation_names_it_and_wait_follows_it_to_its_outcome(self):
        path = "/api/v1/approvals/%s/approve" % APPROVAL_ID
        self.service.answer("POST", path, 200, rotation_approval(status="APPROVED", decidedBy="bob",
                                                                 rotationId="9f2c41d07be85a13"))
        status, out, _ = self.run_cli("approve", APPROVAL_ID, "--reason", "planned")
        self.assertEqual(status, 0)
        self.assertIn("approved %s: rotation 9f2c41d07be85a13 started" % APPROVAL_ID, out)
        self.assertIn("ltcs rotation 9f2c41d07be85a13 --wait", out)

        self.service.answer("GET", "/api/v1/rotations/9f2c41d07be85a13", 200, rotation("COMPLETED"))
        status, out, _ = self.run_cli("approve", APPROVAL_ID, "--reason", "planned", "--wait")
        self.assertEqual(status, 0, out)
        self.assertRegex(out, r"(?m)^COMPLETED in 2s: MANUAL prod/LTC_SECRET_KEY v3 -> v4$")
        self.assertIn("generate", out)

        self.service.answer("GET", "/api/v1/rotations/9f2c41d07be85a13", 200, rotation("ROLLED_BACK"))
        status, out, _ = self.run_cli("approve", APPROVAL_ID, "--reason", "planned", "--wait")
        self.assertEqual(status, 1, "a rotation that ran and failed")
        self.assertRegex(out, r"(?m)^ROLLED_BACK")

    def test_deny_and_a_requesters_withdrawal(self):
        path = "/api/v1/approvals/%s/deny" % APPROVAL_ID
        self.service.answer("POST", path, 200, approval(status="DENIED", decidedBy="bob", decisionReason="no ticket"))
        status, out, _ = self.run_cli("deny", APPROVAL_ID, "--reason", "no ticket")
        self.assertEqual(status, 0)
        self.assertEqual(out.strip(), "denied %s: grant env-file:read on prod to deployer-1 for PT1H; nothing was done"
                         % APPROVAL_ID)
        self.assertEqual(self.requests("POST")[0]["body"], {"reason": "no ticket"})
        self.service.answer("POST", path, 200, approval(status="DENIED", decidedBy="alice", decisionReason="oops"))
        status, out, _ = self.run_cli("deny", APPROVAL_ID, "--reason", "oops", "--json")
        self.assertEqual(status, 0)
        self.assertEqual(json.loads(out)["decidedBy"], "alice")
        status, out, _ = self.run_cli("deny", APPROVAL_ID, "--reason", "oops")
        self.assertTrue(out.startswith("withdrawn " + APPROVAL_ID), out)

    def test_an_id_that_is_not_16_hex_is_refused_before_any_request(self):
        for verb in ("approve", "deny", "approval"):
            for bad in ("7E1D2C3B4A596870", "7e1d2c3b4a59687", "7e1d2c3b4a5968700", "../grants", "7e1d2c3b4a59687g"):
                argv = [verb, bad] + (["--reason", "r"] if verb != "approval" else [])
                status, out, err = self.run_cli(*argv)
                self.assertEqual(status, 2, (verb, bad))
                self.assertIn("16 lowercase hex", err)
                self.assertEqual(out, "")
        status, _, err = self.run_cli("approve", APPROVAL_ID)
        self.assertEqual(status, 2, "--reason is required")
        self.assertIn("--reason", err)
        self.assertEqual(self.requests(), [])

    def test_refusals_exit_3_with_the_problems_code_and_detail(self):
        path = "/api/v1/approvals/%s/approve" % APPROVAL_ID
        self.service.refuse("POST", path, 403, "forbidden", "the requester cannot approve its own request")
        status, out, err = self.run_cli("approve", APPROVAL_ID, "--reason", "mine")
        self.assertEqual(status, 3)
        self.assertEqual(out, "")
        self.assertIn("refused: HTTP 403 forbidden: the requester cannot approve its own request", err)
        self.service.refuse("POST", path, 409, "conflict", "the approval is DENIED, not PENDING\x1b[31m")
        status, _, err = self.run_cli("approve", APPROVAL_ID, "--reason", "late")
        self.assertEqual(status, 3)
        self.assertIn("HTTP 409 conflict: the approval is DENIED, not PENDING?[31m", err)
        status, _, err = self.run_cli("deny", "0123456789abcdef", "--reason", "x")
        self.assertEqual(status, 3)
        self.assertIn("not-found", err)
        self.service.refuse("GET", "/api/v1/approvals", 500, "internal", "boom")
        status, _, _ = self.run_cli("approvals")
        self.assertEqual(status, 4)

    def test_one_approval_shows_what_who_why_and_how_to_approve(self):
        self.service.answer("GET", "/api/v1/approvals/" + APPROVAL_ID, 200, approval())
        status, out, _ = self.run_cli("approval", APPROVAL_ID)
        self.assertEqual(status, 0)
        self.assertIn("approval %s: grant env-file:read on prod to deployer-1 for PT1H" % APPROVAL_ID, out)
        self.assertIn("PENDING GRANT on prod; requested by alice", out)
        self.assertIn("ltcs approve %s --reason" % APPROVAL_ID, out)
        self.service.answer("GET", "/api/v1/approvals/" + APPROVAL_ID, 200, rotation_approval(
            status="APPROVED", decidedBy="bob", decidedAt="2026-03-06T09:05:00Z", decisionReason="planned",
            rotationId="9f2c41d07be85a13"))
        status, out, _ = self.run_cli("approval", APPROVAL_ID)
        self.assertIn("approved by bob ", out)
        self.assertIn("rotation 9f2c41d07be85a13 started", out)
        self.service.answer("GET", "/api/v1/approvals/" + APPROVAL_ID, 200, approval(
            status="DENIED", decidedBy="bob", decidedAt="2026-03-06T09:05:00Z", decisionReason="no ticket"))
        status, out, _ = self.run_cli("approval", APPROVAL_ID)
        self.assertIn("denied by bob: no ticket, ", out)


class PendingApprovalTest(AgainstAFakeService):
    """grant, rotate, rollback and import on an environment with approvals: 202 {"approval": …}, exit 0."""

    def pending_line(self, summary):
        return ("pending approval %s: %s; expires 2099-03-07 09:00 UTC (in " % (APPROVAL_ID, summary))

    def test_a_grant_that_needs_approval_prints_the_pending_request_and_the_second_persons_command(self):
        self.service.answer("POST", "/api/v1/grants", 202, {"approval": approval()})
        status, out, err = self.run_cli("grant", "deployer-1", "prod", "env-file:read", "--ttl", "PT1H",
                                        "--reason", "release 1.4")
        self.assertEqual(status, 0, err)
        self.assertTrue(out.startswith(self.pending_line("grant env-file:read on prod to deployer-1 for PT1H")), out)
        self.assertIn("A second person approves with: ltcs approve %s --reason" % APPROVAL_ID, out)
        self.assertNotIn("may env-file:read", out, "nothing is granted yet")
        status, out, _ = self.run_cli("grant", "deployer-1", "prod", "env-file:read", "--ttl", "PT1H",
                                      "--reason", "release 1.4", "--json")
        self.assertEqual(json.loads(out), {"approval": approval()})

    def test_a_rotation_that_needs_approval_is_not_waited_for(self):
        base = "/api/v1/environments/prod/secrets/LTC_SECRET_KEY/"
        for command, endpoint, stdin in (("rotate", "rotations", None), ("rollback", "rollback", None),
                                         ("import", "import", b"an-existing-value\n")):
            summary = "%s rotation of prod/LTC_SECRET_KEY" % endpoint.upper()
            self.service.answer("POST", base + endpoint, 202, {"approval": rotation_approval(summary=summary)})
            status, out, err = self.run_cli(command, "prod", "LTC_SECRET_KEY", "--reason", "planned", "--wait",
                                            stdin=stdin)
            self.assertEqual(status, 0, (command, err))
            self.assertTrue(out.startswith(self.pending_line(summary)), out)
            self.assertIn("ltcs approve %s --reason" % APPROVAL_ID, out)
            self.assertIn("--wait does not wait for an approval", err)
            status, out, err = self.run_cli(command, "prod", "LTC_SECRET_KEY", "--reason", "planned", stdin=stdin)
            self.assertEqual(status, 0)
            self.assertNotIn("--wait", err)
        self.assertEqual([r for r in self.requests("GET")], [], "no rotation is polled: there is none yet")
        self.assertEqual(self.requests("POST")[4]["body"], {"value": "an-existing-value", "reason": "planned"})

    def test_json_with_wait_prints_the_approval_and_the_note_on_stderr(self):
        self.service.answer("POST", "/api/v1/environments/prod/secrets/LTC_SECRET_KEY/rotations", 202,
                            {"approval": rotation_approval()})
        status, out, err = self.run_cli("rotate", "prod", "LTC_SECRET_KEY", "--reason", "x", "--wait", "--json")
        self.assertEqual(status, 0)
        self.assertEqual(json.loads(out), {"approval": rotation_approval()})
        self.assertIn("--wait does not wait", err)

    def test_an_approved_rotation_and_grant_name_the_approver(self):
        self.service.answer("GET", "/api/v1/rotations/9f2c41d07be85a13", 200, rotation("COMPLETED"))
        status, out, _ = self.run_cli("rotation", "9f2c41d07be85a13")
        self.assertEqual(status, 0)
        self.assertIn("approved by bob (approval %s)" % APPROVAL_ID, out)
        self.service.answer("GET", "/api/v1/grants", 200, [{
            "id": "5b0c9e2f7a41d3c8", "principal": "deployer-1", "environment": "prod", "permission": "env-file:read",
            "grantedBy": "alice", "grantedAt": "2026-03-06T09:05:00Z", "expiresAt": "2099-01-01T00:00:00Z",
            "reason": "release", "active": True, "useCount": 0, "approvedBy": "bob", "approvalId": APPROVAL_ID}])
        status, out, _ = self.run_cli("grants")
        self.assertIn("alice, approved by bob", out)


class IncidentCommandsTest(AgainstAFakeService):
    def incident(self, **fields):
        i = {"incident": "INC-1", "rotationId": "9f2c41d07be85a13", "environment": "prod", "requestedBy": "alice",
             "reason": "key in a log", "requestedAt": "2026-03-06T09:00:00Z", "finishedAt": "2026-03-06T09:00:05Z",
             "outcome": "COMPLETED", "reviewRequired": False, "reviewedBy": None, "reviewedAt": None,
             "reviewReason": None}
        i.update(fields)
        return i

    def test_incidents_show_whether_a_review_is_required_and_by_whom_it_was_done(self):
        self.service.answer("GET", "/api/v1/incidents", 200, [
            self.incident(incident="INC-3", reviewRequired=True),
            self.incident(incident="INC-2", reviewRequired=True, reviewedBy="bob", reviewedAt="2026-03-06T10:00:00Z"),
            self.incident(incident=None, environment="staging")])
        status, out, _ = self.run_cli("incidents", "--environment", "prod")
        self.assertEqual(status, 0)
        lines = out.splitlines()
        self.assertEqual(lines[0].split()[:6], ["INCIDENT", "ENV", "WHEN", "BY", "OUTCOME", "REVIEW"])
        self.assertRegex(lines[1], r"^INC-3 .* COMPLETED\s+REQUIRED\s")
        self.assertRegex(lines[2], r"^INC-2 .* COMPLETED\s+by bob\s")
        self.assertRegex(lines[3], r"^-\s+staging .* COMPLETED\s+-\s")
        self.assertIn("1 emergency awaits a second person's review: ltcs incident review INCIDENT", out)
        self.assertEqual(self.requests()[0]["query"], {"environment": "prod"})

    def test_incidents_of_a_service_without_reviews_show_none_required(self):
        legacy = self.incident()
        for key in ("reviewRequired", "reviewedBy", "reviewedAt", "reviewReason"):
            del legacy[key]
        self.service.answer("GET", "/api/v1/incidents", 200, [legacy])
        status, out, _ = self.run_cli("incidents")
        self.assertEqual(status, 0)
        self.assertRegex(out.splitlines()[1], r"COMPLETED\s+-\s")
        self.assertNotIn("await", out)

    def test_review_posts_the_reason_and_prints_the_reviewed_incident(self):
        # The id is one percent-encoded path segment (":" as %3A); JAX-RS decodes it.
        self.service.answer("POST", "/api/v1/incidents/INC-2026.0042%3Aa_b/review", 200, self.incident(
            incident="INC-2026.0042:a_b", reviewRequired=True, reviewedBy="bob", reviewedAt="2026-03-06T10:00:00Z",
            reviewReason="leak confirmed"))
        status, out, err = self.run_cli("incident", "review", "INC-2026.0042:a_b", "--reason", "leak confirmed")
        self.assertEqual(status, 0, err)
        self.assertIn("incident INC-2026.0042:a_b (prod emergency by alice, COMPLETED): reviewed by bob", out)
        self.assertTrue(out.strip().endswith(": leak confirmed"), out)
        self.assertEqual(self.requests("POST")[0]["body"], {"reason": "leak confirmed"})

    def test_review_refusals_and_bad_input(self):
        for argv in (["incident", "review", "no spaces", "--reason", "r"], ["incident", "review", "../x", "--reason", "r"],
                     ["incident", "review", "I" * 65, "--reason", "r"], ["incident", "review", "--reason", "r"],
                     ["incident", "review", "INC-1"], ["incident", "close", "INC-1", "--reason", "r"]):
            status, _, _ = self.run_cli(*argv)
            self.assertEqual(status, 2, argv)
        self.assertEqual(self.requests(), [])
        self.service.refuse("POST", "/api/v1/incidents/INC-1/review", 403, "forbidden",
                            "the caller ran the emergency")
        status, _, err = self.run_cli("incident", "review", "INC-1", "--reason", "self")
        self.assertEqual(status, 3)
        self.assertIn("HTTP 403 forbidden: the caller ran the emergency", err)
        self.service.refuse("POST", "/api/v1/incidents/INC-1/review", 409, "conflict", "INC-1 needs no review")
        status, _, err = self.run_cli("incident", "review", "INC-1", "--reason", "x")
        self.assertEqual(status, 3)
        self.assertIn("HTTP 409 conflict: INC-1 needs no review", err)
        status, _, err = self.run_cli("incident", "review", "INC-9", "--reason", "x")
        self.assertEqual(status, 3)
        self.assertIn("not-found", err)

if __name__ == "__main__":
    unittest.main()
