"""Tests of tools/ltcs that need no service: arguments, the token rules, formatting, the atomic write.

Run from the repository root:
    python3 -m unittest discover -s tools -p 'test_*.py'

Everything that talks to the service is tested against the packaged jar by LtcsCliIT (./mvnw verify).
"""

import hashlib
import io
import os
import stat
import tempfile
import unittest
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


if __name__ == "__main__":
    unittest.main()
