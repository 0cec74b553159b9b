"""Tests for tools/audit-verify (offline audit-export verifier).

Run from the repository root:
    python3 -m unittest discover -s tools -p 'test_*.py'

The chains are built here with a builder that canonicalizes independently of the verifier
(json.dumps over dicts re-ordered by UTF-16 code units), and a fixed known-answer vector pins
the exact bytes so that a change in canonicalization on either side is caught.
The CLI is exercised as a subprocess because that is the contract the Java tests rely on.
"""

import base64
import csv
import hashlib
import io
import json
import os
import random
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import unittest
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader

HERE = os.path.dirname(os.path.abspath(__file__))
# AUDIT_VERIFY: another copy of the tool, e.g. an older one to see a regression test fail.
SCRIPT = os.environ.get("AUDIT_VERIFY") or os.path.join(HERE, "audit-verify")
ZERO = "0" * 64
FIELDS = ["seq", "time", "actor", "action", "environment", "target", "outcome",
          "requestId", "sourceIp", "details", "prevHash", "hash"]
HAVE_OPENSSL = shutil.which("openssl") is not None
# A marker placed in event details: it must never show up in the verifier's output.
SECRET_MARKER = "hmac-sha256:feedfacecafe"


def load_module():
    loader = SourceFileLoader("audit_verify", SCRIPT)
    spec = spec_from_loader("audit_verify", loader)
    module = module_from_spec(spec)
    loader.exec_module(module)
    return module


av = load_module()


# ---------------------------------------------------------------- independent builder

def utf16_ordered(value):
    """Rebuild dicts with keys inserted in UTF-16 code-unit order (RFC 8785 section 3.2.3)."""
    if isinstance(value, dict):
        return {k: utf16_ordered(value[k])
                for k in sorted(value, key=lambda k: k.encode("utf-16-be"))}
    if isinstance(value, list):
        return [utf16_ordered(v) for v in value]
    return value


def canonical(value):
    # json.dumps escapes exactly " \\ and U+0000..U+001F (\b \f \n \r \t short forms, others
    # as lowercase \u00xx) and, with ensure_ascii=False, leaves everything else literal:
    # that is JSON.stringify's string form. Insertion order replaces sort_keys.
    return json.dumps(utf16_ordered(value), ensure_ascii=False, separators=(",", ":"))


def seal(event):
    body = {k: v for k, v in event.items() if k != "hash"}
    event["hash"] = hashlib.sha256(
        (event["prevHash"] + "\n" + canonical(body)).encode("utf-8")).hexdigest()
    return event


DETAILS = [
    {"version": 3, "reason": "scheduled"},
    {"note": "Grüße aus Köln – ☃ 日本語 😀", "quote": 'say "hi" \\ bye'},
    {"multi": "line1\nline2\r\nline3\ttabbed", "ctl": "\x00\x01\x1f\x7f\b\f", SECRET_MARKER: True},
    {"nested": {"list": [1, -2, True, False, None, "x", {"deep": {"deeper": []}}], "empty": {}}},
    {"\ue000": "private use", "\U0001F600": "emoji", "a": 1, "Z": 2, "\u00e9": 3},
    {"csv,chars": "a,b;\"c\"", "big": 9007199254740991, "neg": -9007199254740991},
]


def make_events(n, start_seq=1, prev=ZERO):
    events = []
    for i in range(n):
        seq = start_seq + i
        ev = {
            "seq": seq,
            "time": "2026-03-06T09:%02d:%02d.%03dZ" % (seq // 60 % 60, seq % 60, seq % 1000),
            "actor": ["alice", "scheduler", "system", "anonymous", "bøb"][seq % 5],
            "action": ["token.create", "rotation.complete", "envfile.read", "auth.denied"][seq % 4],
            "environment": None if seq % 3 == 0 else "prod",
            "target": None if seq % 4 == 0 else "LTC_SECRET_KEY",
            "outcome": ["SUCCESS", "DENIED", "FAILED"][seq % 3],
            "requestId": "req-%d" % seq,
            "sourceIp": None if seq % 2 else "192.0.2.%d" % (seq % 250),
            "details": DETAILS[(seq - 1) % len(DETAILS)],
            "prevHash": prev,
        }
        seal(ev)
        prev = ev["hash"]
        events.append(ev)
    return events


def jsonl_line(event, rng=None):
    keys = list(event)
    if rng is not None:
        rng.shuffle(keys)  # key order in a line is arbitrary
    ascii_only = rng is not None and rng.random() < 0.5
    return json.dumps({k: event[k] for k in keys}, ensure_ascii=ascii_only)


def to_jsonl(events, seed=7):
    rng = random.Random(seed)
    return "".join(jsonl_line(e, rng) + "\n" for e in events).encode("utf-8")


def csv_row(event):
    row = []
    for k in FIELDS:
        v = event[k]
        if v is None:
            row.append("")
        elif k == "details":
            row.append(canonical(v))
        else:
            row.append(str(v))
    return row


def to_csv(events, header=FIELDS):
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(header)
    for e in events:
        w.writerow(csv_row(e))
    return buf.getvalue().encode("utf-8")


# ---------------------------------------------------------------- base

class CliCase(unittest.TestCase):
    def setUp(self):
        self._tmp = tempfile.TemporaryDirectory()
        self.tmp = self._tmp.name

    def tearDown(self):
        self._tmp.cleanup()

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data if isinstance(data, bytes) else data.encode("utf-8"))
        return path

    def run_cli(self, *args, stdin=None):
        proc = subprocess.run([sys.executable, SCRIPT, *args], input=stdin,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120)
        out, err = proc.stdout.decode("utf-8"), proc.stderr.decode("utf-8")
        self.assertNotIn(SECRET_MARKER, out + err)
        return proc.returncode, out, err

    def assertValid(self, path, *extra, expect=None):
        rc, out, err = self.run_cli(*extra, path)
        self.assertEqual(rc, 0, out + err)
        self.assertEqual(out.count("\n"), 1, out)
        if expect is not None:
            self.assertEqual(out, expect + "\n")
        return out, err

    def assertInvalid(self, path, where, reason_re, *extra):
        rc, out, err = self.run_cli(*extra, path)
        self.assertEqual(rc, 1, out + err)
        self.assertEqual(out.count("\n"), 1, out)
        self.assertRegex(out, r"^INVALID at %s: %s" % (re.escape(where), reason_re))
        return out

    @staticmethod
    def ok_line(events, checkpoint_seq=None, pinned=False, start=None, after=None, expect=False):
        """The OK line, written out: what is signed, how the start is tied down, whether the end is pinned."""
        key = "the pinned key" if pinned else "the EMBEDDED key (not pinned)"
        first, last = events[0]["seq"], events[-1]["seq"]
        parts = ["OK: %d events, seq %d..%d, head %s" % (len(events), first, last, events[-1]["hash"])]
        if after is not None:
            parts.append("anchor seq=%d verified with %s" % (after, key))
        elif start is not None:
            parts.append(start)
        elif first == 1:
            parts.append("starts at genesis")
        else:
            parts.append("start UNANCHORED (seq %d's prevHash taken as given: earlier events may be missing)" % first)
        if checkpoint_seq is not None:
            parts.append("checkpoint seq=%d verified with %s, signature covers seq %d..%d"
                         % (checkpoint_seq, key, first, checkpoint_seq))
            if last > checkpoint_seq:
                parts.append("seq %d..%d NOT signed%s" % (checkpoint_seq + 1, last,
                                                         " (end matches --expect-head)" if expect else ""))
        else:
            parts.append("no checkpoint: NOTHING signed, a re-hashed forgery would pass")
        parts.append("end matches --expect-head seq %d" % last if expect else "end not checked (no --expect-head)")
        return "; ".join(parts)


# ---------------------------------------------------------------- canonicalization

class KnownAnswerTest(unittest.TestCase):
    """Fixed vector.

    How it was computed (independently of this repository's Python code): the canonical text
    below was written out by hand from the RFC 8785 rules -- top-level keys in ASCII order;
    in details "Z\u00fcrich" (U+005A) < "a" < U+1F600 (UTF-16 D83D DE00) < U+E000, which is
    the opposite of code-point order for the last two; \\t \\" \\\\ \\n short escapes, U+0001
    as \\u0001, U+007F and non-ASCII literal. It was cross-checked with node's JSON.stringify
    over recursively sorted keys (JS sorts by UTF-16 code units), and the hash computed with
        printf '%s\\n%s' "$PREV" "$CANON" | sha256sum
    i.e. sha256sum over the bytes prevHash + LF + canonical text (no trailing newline).
    """

    EVENT = {
        "seq": 1, "time": "2026-03-06T09:00:00.000Z", "actor": "alice",
        "action": "envfile.read", "environment": "prod", "target": "LTC_SECRET_KEY",
        "outcome": "SUCCESS", "requestId": "req-1", "sourceIp": None,
        "details": {"\ue000": 1, "\U0001F600": "smile", "a": [True, False, None, -7],
                    "Z\u00fcrich": 'tab\there "q" back\\slash \x01 \x7f \u00e9\n'},
        "prevHash": ZERO,
    }
    CANONICAL = (
        '{"action":"envfile.read","actor":"alice","details":{'
        '"Z\u00fcrich":"tab\\there \\"q\\" back\\\\slash \\u0001 \x7f \u00e9\\n",'
        '"a":[true,false,null,-7],"\U0001F600":"smile","\ue000":1},'
        '"environment":"prod","outcome":"SUCCESS",'
        '"prevHash":"0000000000000000000000000000000000000000000000000000000000000000",'
        '"requestId":"req-1","seq":1,"sourceIp":null,"target":"LTC_SECRET_KEY",'
        '"time":"2026-03-06T09:00:00.000Z"}'
    )
    HASH = "6d0c476a20a7bbbd7f0f71f0ded1ef9f26c19f16523ca5f6663ed79a58a71f72"

    def test_verifier_canonical_form_matches_hand_written_text(self):
        self.assertEqual(av.jcs(self.EVENT), self.CANONICAL)

    def test_test_builder_agrees_with_the_vector(self):
        self.assertEqual(canonical(self.EVENT), self.CANONICAL)

    def test_hash_matches_vector(self):
        self.assertEqual(hashlib.sha256((ZERO + "\n" + self.CANONICAL).encode("utf-8")).hexdigest(),
                         self.HASH)
        self.assertEqual(av.event_hash(dict(self.EVENT, hash="ignored")), self.HASH)

    def test_cli_accepts_the_vector(self):
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "kav.jsonl")
            with open(path, "w", encoding="utf-8") as f:
                f.write(json.dumps(dict(self.EVENT, hash=self.HASH)) + "\n")
            proc = subprocess.run([sys.executable, SCRIPT, path], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE)
        self.assertEqual(proc.returncode, 0, proc.stdout + proc.stderr)
        self.assertEqual(proc.stdout.decode(), "OK: 1 events, seq 1..1, head %s; starts at genesis; no checkpoint: "
                         "NOTHING signed, a re-hashed forgery would pass; end not checked (no --expect-head)\n"
                         % self.HASH)


class JcsTest(unittest.TestCase):
    def test_rfc8785_property_sorting_example(self):
        # RFC 8785 section 3.2.3.
        obj = {"\u20ac": "Euro Sign", "\r": "Carriage Return", "\ufb33": "Hebrew Letter Dalet With Dagesh",
               "1": "One", "\U0001F600": "Emoji: Grinning Face", "\u0080": "Control",
               "\u00f6": "Latin Small Letter O With Diaeresis"}
        values = [v for v in json.loads(av.jcs(obj)).values()]
        self.assertEqual(values, ["Carriage Return", "One", "Control",
                                  "Latin Small Letter O With Diaeresis", "Euro Sign",
                                  "Emoji: Grinning Face", "Hebrew Letter Dalet With Dagesh"])

    def test_rfc8785_string_example(self):
        # RFC 8785 section 3.2.2.2: "\u20ac$\u000F\u000aA'\u0042\u0022\u005c\\\"\/"
        parsed = av.parse_json('"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/"')
        self.assertEqual(av.jcs(parsed), '"\u20ac$\\u000f\\nA\'B\\"\\\\\\\\\\"/"')

    def test_every_control_character_escape(self):
        for cp in range(0x20):
            expected = {8: "\\b", 9: "\\t", 10: "\\n", 12: "\\f", 13: "\\r"}.get(cp, "\\u%04x" % cp)
            self.assertEqual(av.jcs(chr(cp)), '"%s"' % expected)
        self.assertEqual(av.jcs("\x7f\u2028/"), '"\x7f\u2028/"')

    def test_refuses_floats_non_finite_large_ints_and_lone_surrogates(self):
        for text in ('{"a":1.0}', '{"a":1e3}', '{"a":[NaN]}', '{"a":Infinity}',
                     '{"a":9007199254740992}', '{"a":"\\ud800"}'):
            with self.subTest(text=text):
                with self.assertRaises(ValueError):
                    av.jcs(av.parse_json(text))


# ---------------------------------------------------------------- the JSONL fast path

def export_line(event):
    """A line as the service's ExportFormat.jsonl writes it: its field order, no spaces, details raw canonical."""
    parts = []
    for k in FIELDS:
        v = event[k]
        text = canonical(v) if k == "details" else json.dumps(v, ensure_ascii=False)
        parts.append('"%s":%s' % (k, text))
    return ("{" + ",".join(parts) + "}").encode("utf-8")


def to_export_jsonl(events):
    return b"".join(export_line(e) + b"\n" for e in events)


NEVER = re.compile(rb"(?!)")


def chain_result(raw, fast=True, **kwargs):
    """What verify() makes of JSONL bytes: its result and notes, or the Invalid it raises. fast=False turns
    the fast path off (no line matches the export pattern), leaving the strict parse-and-JCS path."""
    saved = av.EXPORT_LINE
    if not fast:
        av.EXPORT_LINE = NEVER
    notes = []
    try:
        result = av.verify(io.BytesIO(raw), "jsonl", notes=notes, **kwargs)
        return vars(result), notes
    except av.Invalid as e:
        return "INVALID", e.where, e.reason
    finally:
        av.EXPORT_LINE = saved


def takes_fast_path(raw):
    m = av.EXPORT_LINE.match(raw)
    return m is not None and (m.group(11) == b"{}" or av.details_canonical(m.group(11)))


class FastPathTest(CliCase):
    """A line exactly as the service exports it is hashed from slices of itself; every line must come out of
    that fast path exactly as it comes out of the strict parse-and-canonicalize path, valid or not."""

    EVENT = {
        "seq": 41, "time": "2026-03-06T09:00:00.123Z", "actor": "deploy-prod", "action": "envfile.read",
        "environment": "prod", "target": None, "outcome": "SUCCESS", "requestId": "0123456789abcdef" * 2,
        "sourceIp": "127.0.0.1", "details": {"code": "forbidden", "status": 403, "tokenId": "t-1", "ok": True},
        "prevHash": "ab" * 32,
    }

    def base(self, **changes):
        return export_line(seal(dict(self.EVENT, **changes)))

    def assertAgree(self, raw, **kwargs):
        self.assertEqual(chain_result(raw, **kwargs), chain_result(raw, fast=False, **kwargs), raw)

    def test_export_lines_take_the_fast_path_and_hash_like_the_strict_path(self):
        events = make_events(60) + [seal(dict(self.EVENT, details=d)) for d in (
            {}, {"a": None, "b": [1, "x", {"c": False}], "z": -9007199254740991}, {"": ""})]
        fast = 0
        for e in events:
            raw = export_line(e)
            with self.subTest(seq=e["seq"]):
                self.assertAgree(raw)
                self.assertEqual(chain_result(raw)[0]["head"], e["hash"])
                fast += takes_fast_path(raw)
        chain = to_export_jsonl(events[:60])
        self.assertAgree(chain)
        self.assertEqual(chain_result(chain)[0]["head"], events[59]["hash"])
        self.assertAgree(chain, checkpoint=(30, events[29]["hash"]))
        self.assertAgree(chain, checkpoint=(30, events[28]["hash"]))
        self.assertAgree(chain, anchor=ZERO, first_seq=1, last=(60, events[59]["hash"]))
        # ASCII-only events are most of these (make_events has "bøb" and non-ASCII details): both paths ran.
        self.assertGreater(fast, 10)
        self.assertLess(fast, len(events))

    def test_crafted_lines_agree(self):
        base = self.base().decode("ascii")
        swaps = [
            ('"seq":41', '"seq":041'), ('"seq":41', '"seq":0'), ('"seq":41', '"seq":9007199254740992'),
            ('"seq":41', '"seq":9007199254740991'), ('"seq":41', '"seq":41.0'), ('"seq":41', '"seq":-41'),
            ('"seq":41', '"seq":"41"'), ('"seq":41', '"seq":true'),
            ("09:00:00.123", "24:00:00.123"), ("09:00:00.123", "23:60:00.123"), ("09:00:00.123", "23:59:60.123"),
            ("09:00:00.123", "23:59:61.123"), ("09:00:00.123", "9:00:00.123"), ("09:00:00.123", "09:00:00.12"),
            ("2026-03-06", "2026-02-29"), ("2026-03-06", "2024-02-29"), ("2026-03-06", "0000-01-01"),
            ("2026-03-06", "2026-13-01"), ("2026-03-06", "2026-04-31"), (".123Z", ".123+00:00"),
            ('"deploy-prod"', '""'), ('"deploy-prod"', '"deploy\\/prod"'), ('"deploy-prod"', '"deploy\\u002dprod"'),
            ('"deploy-prod"', '"d\\"p"'), ('"deploy-prod"', '"d\\\\p"'), ('"deploy-prod"', '"d\tp"'),
            ('"deploy-prod"', '"d\x7fp"'), ('"deploy-prod"', '"dépl"'), ('"deploy-prod"', '"\\u00e9"'),
            ('"deploy-prod"', '"\\ud800"'), ('"deploy-prod"', "null"), ('"deploy-prod"', "7"),
            ('"target":null', '"target":"x"'), ('"target":null', '"target":false'),
            ('"SUCCESS"', '"success"'), ('"SUCCESS"', '"DENIED"'), ('"SUCCESS"', "null"),
            ('"details":{', '"details": {'), ('"seq":41,', '"seq":41 ,'), ('{"seq"', ' {"seq"'),
            ('"status":403', '"status":403.0'), ('"status":403', '"status":4.03e2'), ('"status":403', '"status":-0'),
            ('"status":403', '"status":9007199254740992'), ('"status":403', '"status":NaN'),
            ('"status":403', '"status":Infinity'), ('"status":403', '"status":0403'),
            ('"code":"forbidden"', '"code":"forbidden","code":"x"'), ('"code":"forbidden",', ''),
            ('"ok":true', '"ok":true,"ok":true'), ('"code":"forbidden"', '"zz":"forbidden"'),
            ('"code":"forbidden"', '"code":"forbidd\\u0065n"'), ('"code":"forbidden"', '"code":"\\u00e9"'),
            ('"code":"forbidden"', '"code":"\\n"'), ('"code":"forbidden"', '"code":"\\u000a"'),
            ('"code":"forbidden"', '"code":"\\u001F"'), ('"code":"forbidden"', '"code":"\\u001f"'),
            ('"code":"forbidden"', '"code":"\\ud83d\\ude00"'), ('"code":"forbidden"', '"code":"\U0001F600"'),
            ('"code":"forbidden"', '"code":{"b":1,"a":2}'), ('"code":"forbidden"', '"code":{"a":1,"a":1}'),
            ('"code":"forbidden"', '"code":[1,{"x":[]}]'), ('"code":"forbidden"', '"code":[1 ,2]'),
            ('"code":"forbidden"', '"\\u0063ode":"forbidden"'), ('"code":"forbidden"', '"code":"\x7f"'),
            ('"code":"forbidden"', '"code":"forbidden"}'), ('"tokenId":"t-1"}', '"tokenId":"t-1"'),
            ('"details":{"code"', '"details":[{"code"'), ('"details":{', '"details":"{'),
            ('"prevHash":"abab', '"prevHash":"ABab'), ('"prevHash":"abab', '"prevHash":"abaz'),
            (',"prevHash":"abab', ',"prevHash":"abab",' + '"prevHash":"abab'), ('"hash":"', '"hash":"0'),
            ('"hash":', '"hash" :'), ('"environment":"prod",', ''), ('"sourceIp":"127.0.0.1",', '"sourceIp":"127.0.0.1","x":1,'),
        ]
        endings = [b"", b"\n", b"\r\n", b"\r", b" \n", b"\n\n"]
        for old, new in swaps:
            self.assertIn(old, base)
            line = base.replace(old, new, 1).encode("utf-8")
            for ending in endings:
                with self.subTest(old=old, new=new, ending=ending):
                    if ending == b"\n\n":
                        continue
                    self.assertAgree(line + ending)
        for prefix in (b"\xef\xbb\xbf", b"\xef\xbb", b" "):
            self.assertAgree(prefix + base.encode() + b"\n")
        self.assertAgree(b"\n")
        self.assertAgree(b"")  # nothing at all: no rows either way
        # Key order other than the export's: valid, strict path, same hash.
        moved = base.replace('"actor":"deploy-prod",', "").replace('"action":"envfile.read",',
                                                                     '"action":"envfile.read","actor":"deploy-prod",')
        self.assertFalse(takes_fast_path(moved.encode()))
        self.assertEqual(chain_result(moved.encode()), chain_result(base.encode()))

    def test_random_mutations_agree(self):
        rng = random.Random(24)
        lines = [self.base(), self.base(details={}), self.base(details={"a": [1, {"b": "c"}], "n": -5}),
                 self.base(target="x,y", environment=None)]
        alphabet = b'{}[]":,.-+0123456789eEaftnulrsSUCESDNI\\/ \t\r\n\x00\x7f\xc3\xa9\xff'
        fast = 0
        for _ in range(4000):
            line = bytearray(rng.choice(lines))
            for _ in range(rng.choice((1, 1, 2, 3))):
                op, pos = rng.random(), rng.randrange(len(line))
                if op < 0.4:
                    line[pos] = rng.choice(alphabet)
                elif op < 0.7:
                    line.insert(pos, rng.choice(alphabet))
                else:
                    del line[pos]
            raw = bytes(line)
            fast += takes_fast_path(raw)
            self.assertAgree(raw)
        self.assertGreater(fast, 100)   # mutations inside strings and hashes keep the fast path

    def test_random_mutations_of_a_chain_agree(self):
        rng = random.Random(8785)
        events = [e for e in make_events(40) if takes_fast_path(export_line(e))][:6]
        data = to_export_jsonl(make_events(events[-1]["seq"])[events[0]["seq"] - 1:])
        alphabet = b'{}":,0123456789abcdef\\ \r\n\x00\xef\xbb\xbf'
        for _ in range(1500):
            line = bytearray(data)
            for _ in range(rng.choice((1, 2))):
                pos = rng.randrange(len(line))
                if rng.random() < 0.5:
                    line[pos] = rng.choice(alphabet)
                else:
                    del line[pos]
            self.assertAgree(bytes(line))
            self.assertAgree(bytes(line), anchor=events[0]["prevHash"], checkpoint=(events[2]["seq"], events[2]["hash"]))

    def test_lines_across_read_blocks_and_too_long_lines(self):
        events = make_events(40)
        data = b"\xef\xbb\xbf" + to_export_jsonl(events)
        saved_block, saved_max = av.READ_BLOCK, av.MAX_LINE_BYTES
        try:
            for block in (1, 7, 64, 389, 4096):
                av.READ_BLOCK = block
                with self.subTest(block=block):
                    self.assertEqual(chain_result(data)[0]["head"], events[-1]["hash"])
                    self.assertAgree(data)
                    self.assertAgree(data[:-1])       # no final newline
                    self.assertAgree(data + b"\n")    # an empty last line
            # Each limit against readline(limit + 1), as the verifier read lines before: a line, with its
            # newline, longer than the limit is refused at its number.
            lengths = sorted({len(export_line(e)) for e in events})
            for limit in (lengths[0] - 2, lengths[0], lengths[0] + 1, lengths[len(lengths) // 2], lengths[-1] + 1):
                av.MAX_LINE_BYTES = limit
                for block in (5, 300, 1 << 20):
                    av.READ_BLOCK = block
                    broken = data.replace(b'{"seq":3,', b'{"seq":3 ', 1)   # an error before a long line
                    for payload in (data, data[:-1], data[3:], broken):
                        stream, lineno, expected = io.BytesIO(payload), 0, None
                        while True:
                            raw = stream.readline(limit + 1)
                            if not raw:
                                break
                            lineno += 1
                            if len(raw) > limit:
                                expected = ("INVALID", ("line", lineno), "line longer than %d bytes" % limit)
                                break
                            if lineno == 3 and payload is broken:
                                expected = chain_result(payload[:payload.index(b'{"seq":4,')], fast=False)
                                break
                        with self.subTest(limit=limit, block=block):
                            if expected is not None:
                                self.assertEqual(chain_result(payload), expected)
                            self.assertAgree(payload)
        finally:
            av.READ_BLOCK, av.MAX_LINE_BYTES = saved_block, saved_max

    def test_cli_on_an_export_file(self):
        events = make_events(30)
        data = to_export_jsonl(events)
        path = self.write("audit.jsonl", data)
        self.assertValid(path, expect=self.ok_line(events))
        # Tampering caught on the fast path: a changed field, a swapped pair, a deleted line.
        lines = data.split(b"\n")
        ascii_seq = next(e["seq"] for e in events[5:] if takes_fast_path(export_line(e)))
        i = ascii_seq - 1
        changed = list(lines)
        changed[i] = changed[i].replace(b'"requestId":"req-', b'"requestId":"reX-')
        self.assertTrue(takes_fast_path(changed[i]))
        self.assertInvalid(self.write("a.jsonl", b"\n".join(changed)), "seq %d" % ascii_seq,
                           "hash does not match recomputed hash")
        swapped = list(lines)
        swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
        self.assertInvalid(self.write("b.jsonl", b"\n".join(swapped)), "seq %d" % (ascii_seq + 1),
                           "seq not contiguous")
        deleted = lines[:i] + lines[i + 1:]
        self.assertInvalid(self.write("c.jsonl", b"\n".join(deleted)), "seq %d" % (ascii_seq + 1),
                           "seq not contiguous")


# ---------------------------------------------------------------- valid chains

class ValidChainTest(CliCase):
    def test_valid_jsonl_chain(self):
        events = make_events(12)
        path = self.write("audit.jsonl", to_jsonl(events))
        out, err = self.assertValid(path, expect=self.ok_line(events))
        self.assertEqual(err, "")

    def test_valid_csv_chain_with_same_head_as_jsonl(self):
        events = make_events(12)
        data = to_csv(events)
        self.assertIn(b'"line1\\nline2', data)  # escaped newline inside canonical details
        path = self.write("audit.csv", data)
        self.assertValid(path, expect=self.ok_line(events))

    def test_csv_with_raw_newlines_and_quotes_in_fields(self):
        events = make_events(3)
        events[1]["target"] = 'multi\nline "target", with comma'
        events[1]["actor"] = "\u00e9\u00e8 \U0001F600"
        for i in range(1, 3):
            events[i]["prevHash"] = events[i - 1]["hash"]
            seal(events[i])
        data = to_csv(events)
        self.assertIn(b'"multi\nline ""target"", with comma"', data)
        self.assertValid(self.write("a.csv", data), expect=self.ok_line(events))
        self.assertValid(self.write("a.jsonl", to_jsonl(events)), expect=self.ok_line(events))

    def test_stdin_with_explicit_format(self):
        events = make_events(5)
        rc, out, err = self.run_cli("--format", "jsonl", "-", stdin=to_jsonl(events))
        self.assertEqual((rc, out), (0, self.ok_line(events) + "\n"))
        rc, out, err = self.run_cli("--format", "csv", "-", stdin=to_csv(events))
        self.assertEqual((rc, out), (0, self.ok_line(events) + "\n"))

    def test_format_flag_overrides_extension(self):
        events = make_events(3)
        path = self.write("export.txt", to_csv(events))
        self.assertValid(path, "--format", "csv", expect=self.ok_line(events))

    def test_crlf_line_endings_and_missing_final_newline_in_jsonl(self):
        events = make_events(4)
        data = to_jsonl(events).replace(b"\n", b"\r\n").rstrip(b"\r\n")
        self.assertValid(self.write("a.jsonl", data), expect=self.ok_line(events))

    def test_empty_jsonl_export_is_zero_events(self):
        rc, out, err = self.run_cli(self.write("empty.jsonl", b""))
        self.assertEqual((rc, out), (0, "OK: 0 events; end not checked (no --expect-head)\n"))

    def test_partial_export_unanchored_prints_note(self):
        events = make_events(10)[4:]
        path = self.write("part.jsonl", to_jsonl(events))
        out, err = self.assertValid(path, expect=self.ok_line(events))
        self.assertIn("unanchored", err)
        self.assertIn("seq 5", err)

    def test_partial_export_with_matching_anchor(self):
        full = make_events(10)
        events = full[4:]
        path = self.write("part.jsonl", to_jsonl(events))
        out, err = self.assertValid(path, "--anchor", full[3]["hash"],
                                    expect=self.ok_line(events, start="starts at --anchor"))
        self.assertNotIn("unanchored", err)

    def test_partial_export_with_wrong_anchor(self):
        full = make_events(10)
        path = self.write("part.jsonl", to_jsonl(full[4:]))
        self.assertInvalid(path, "seq 5", "prevHash of first event does not match --anchor",
                           "--anchor", full[2]["hash"])

    def test_memory_does_not_grow_with_file_size(self):
        # ~40 MB export; a verifier that loaded it would need far more than the bound below.
        path = os.path.join(self.tmp, "big.jsonl")
        pad = "x" * 2000
        prev = ZERO
        with open(path, "w", encoding="utf-8") as f:
            for seq in range(1, 20001):
                ev = seal({"seq": seq, "time": "2026-03-06T09:00:00.000Z", "actor": "a",
                           "action": "envfile.read", "environment": "prod", "target": None,
                           "outcome": "SUCCESS", "requestId": None, "sourceIp": None,
                           "details": {"pad": pad, "n": seq}, "prevHash": prev})
                prev = ev["hash"]
                f.write(json.dumps(ev) + "\n")
        self.assertGreater(os.path.getsize(path), 40_000_000)
        rc, out, err = self.run_cli(path)
        self.assertTrue(out.startswith("OK: 20000 events, seq 1..20000, head %s; " % prev), out)
        max_rss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
        self.assertLess(max_rss_kib, 35 * 1024)


# ---------------------------------------------------------------- tampering

class TamperTest(CliCase):
    N = 8

    def setUp(self):
        super().setUp()
        self.events = make_events(self.N)

    def lines(self):
        return to_jsonl(self.events).splitlines(keepends=True)

    def test_changed_field_jsonl(self):
        lines = self.lines()
        ev = json.loads(lines[3])
        ev["actor"] = "mallory"
        lines[3] = (json.dumps(ev) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 4",
                           "hash does not match recomputed hash [0-9a-f]{64}$")

    def test_changed_nested_detail_jsonl(self):
        lines = self.lines()
        ev = json.loads(lines[3])
        ev["details"]["nested"]["list"][0] = 2
        lines[3] = (json.dumps(ev) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 4", "hash does not match")

    def test_changed_field_csv(self):
        data = to_csv(self.events).decode()
        rows = list(csv.reader(io.StringIO(data, newline="")))
        rows[6][6] = "SUCCESS" if rows[6][6] != "SUCCESS" else "DENIED"  # seq 6 outcome
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        self.assertInvalid(self.write("a.csv", buf.getvalue()), "seq 6", "hash does not match")

    def test_null_turned_into_value_csv(self):
        rows = list(csv.reader(io.StringIO(to_csv(self.events).decode(), newline="")))
        self.assertEqual(rows[3][4], "")  # seq 3 environment is null
        rows[3][4] = "prod"
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        self.assertInvalid(self.write("a.csv", buf.getvalue()), "seq 3", "hash does not match")

    def test_deleted_line(self):
        lines = self.lines()
        del lines[2]  # seq 3
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 4",
                           r"seq not contiguous: expected seq 3 after seq 2")

    def test_deleted_first_line_is_caught_at_seq_1_rule_only_when_anchored(self):
        lines = self.lines()[1:]
        path = self.write("a.jsonl", b"".join(lines))
        # Looks like a partial export: accepted but flagged as unanchored...
        out, err = self.assertValid(path)
        self.assertIn("unanchored", err)
        # ...and rejected once anchored at the genesis.
        self.assertInvalid(path, "seq 2", "prevHash of first event does not match --anchor",
                           "--anchor", ZERO)

    def test_swapped_lines(self):
        lines = self.lines()
        lines[4], lines[5] = lines[5], lines[4]
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 6",
                           "seq not contiguous: expected seq 5 after seq 4")

    def test_swapped_lines_csv(self):
        data = to_csv(self.events).split(b"\r\n")
        data[2], data[3] = data[3], data[2]  # seq 2 and 3
        self.assertInvalid(self.write("a.csv", b"\r\n".join(data)), "seq 3",
                           "seq not contiguous: expected seq 2 after seq 1")

    def test_truncation_is_valid_but_head_differs(self):
        lines = self.lines()[:-1]
        path = self.write("a.jsonl", b"".join(lines))
        out, _ = self.assertValid(path, expect=self.ok_line(self.events[:-1]))
        self.assertNotIn(self.events[-1]["hash"], out)

    def test_appended_forged_line_with_wrong_hash(self):
        forged = dict(self.events[-1], seq=self.N + 1, prevHash=self.events[-1]["hash"],
                      hash="ab" * 32)
        data = to_jsonl(self.events) + (json.dumps(forged) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", data), "seq %d" % (self.N + 1),
                           "hash does not match recomputed hash")

    def test_appended_rehashed_line_with_broken_link(self):
        forged = seal(dict(self.events[-1], seq=self.N + 1, prevHash="cd" * 32))
        data = to_jsonl(self.events) + (json.dumps(forged) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", data), "seq %d" % (self.N + 1),
                           "prevHash does not match hash of seq %d" % self.N)

    def test_replaced_and_rehashed_middle_event_breaks_next_link(self):
        lines = self.lines()
        forged = seal(dict(self.events[2], actor="mallory"))
        lines[2] = (json.dumps(forged) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 4",
                           "prevHash does not match hash of seq 3")

    def test_genesis_with_nonzero_prev_hash(self):
        events = make_events(3, prev="11" * 32)
        self.assertInvalid(self.write("a.jsonl", to_jsonl(events)), "seq 1",
                           "prevHash of seq 1 must be 64 zeros")

    def test_float_in_details_jsonl(self):
        lines = self.lines()
        ev = json.loads(lines[4])
        ev["details"] = {"ratio": 0.5}
        lines[4] = (json.dumps(ev) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 5",
                           "floating-point number not allowed")

    def test_float_even_when_hash_was_computed_over_it(self):
        lines = self.lines()
        ev = json.loads(lines[4])
        ev["details"] = {"nested": [{"x": 1.0}]}
        body = json.dumps({k: v for k, v in ev.items() if k != "hash"}, sort_keys=True,
                          separators=(",", ":"))
        ev["hash"] = hashlib.sha256((ev["prevHash"] + "\n" + body).encode()).hexdigest()
        lines[4] = (json.dumps(ev) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 5",
                           "floating-point number not allowed")

    def test_float_in_details_csv(self):
        rows = list(csv.reader(io.StringIO(to_csv(self.events).decode(), newline="")))
        rows[2][9] = '{"ratio":1.5}'
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        self.assertInvalid(self.write("a.csv", buf.getvalue()), "seq 2",
                           "details: floating-point number not allowed")

    def test_non_canonical_details_in_csv(self):
        rows = list(csv.reader(io.StringIO(to_csv(self.events).decode(), newline="")))
        rows[1][9] = '{"version": 3, "reason": "scheduled"}'
        buf = io.StringIO()
        csv.writer(buf, lineterminator="\r\n").writerows(rows)
        self.assertInvalid(self.write("a.csv", buf.getvalue()), "seq 1",
                           r"details is not canonical JSON")

    def test_unknown_key(self):
        lines = self.lines()
        ev = json.loads(lines[5])
        ev[SECRET_MARKER] = "x"
        lines[5] = (json.dumps(ev) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 6", r"1 unknown key\(s\)")

    def test_unknown_key_even_when_rehashed(self):
        lines = self.lines()
        ev = seal(dict(self.events[5], extra="x"))
        lines[5] = (json.dumps(ev) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 6", r"1 unknown key\(s\)")

    def test_missing_key(self):
        lines = self.lines()
        ev = json.loads(lines[1])
        del ev["sourceIp"]
        lines[1] = (json.dumps(ev) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 2",
                           r"missing key\(s\): sourceIp")

    def test_duplicate_key_rejected(self):
        lines = self.lines()
        lines[1] = lines[1].rstrip(b"\n")[:-1] + b', "actor": "x"}\n'
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "line 2", "duplicate key")

    def test_duplicate_key_inside_details_named_as_such(self):
        # Not "details must be a JSON object": it is one, with a key twice (which value would count?).
        for details, where in ((b'{"a": 1, "a": 2}', "seq 3"), (b'{"x": {"a": 1, "a": 2}}', "seq 3")):
            with self.subTest(details=details):
                lines = self.lines()
                ev = json.loads(lines[2])
                ev["details"] = "@@DETAILS@@"
                lines[2] = (json.dumps(ev) + "\n").encode().replace(b'"@@DETAILS@@"', details)
                self.assertInvalid(self.write("a.jsonl", b"".join(lines)), where,
                                   r"details: duplicate key in JSON object$" if details.startswith(b'{"a"')
                                   else r"duplicate key in JSON object$")

    def test_bad_field_types(self):
        cases = [("outcome", "MAYBE", "outcome is not SUCCESS, DENIED or FAILED"),
                 ("time", "2026-03-06 09:00:00Z", "time is not RFC 3339"),
                 ("time", "2026-02-30T09:00:00.000Z", "time is not RFC 3339"),
                 ("actor", 5, "actor must be a string or null"),
                 ("target", "", "target must not be an empty string"),
                 ("details", None, "details must be a JSON object"),
                 ("hash", "AB" * 32, "hash is not 64 lowercase hex")]
        for key, value, reason in cases:
            with self.subTest(key=key, value=value):
                lines = self.lines()
                ev = json.loads(lines[2])
                ev[key] = value
                lines[2] = (json.dumps(ev) + "\n").encode()
                self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "seq 3", reason)

    def test_unreadable_line_reports_line_number(self):
        lines = self.lines()
        lines[3] = lines[3][:40] + b"\n"
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "line 4", "not valid JSON")

    def test_non_integer_seq_reports_line_number(self):
        lines = self.lines()
        ev = json.loads(lines[3])
        ev["seq"] = "4"
        lines[3] = (json.dumps(ev) + "\n").encode()
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "line 4",
                           "seq missing or not an integer")

    def test_blank_line(self):
        lines = self.lines()
        lines.insert(2, b"\n")
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "line 3", "empty line")

    def test_invalid_utf8(self):
        lines = self.lines()
        lines[1] = lines[1].replace(b"req-", b"r\xffq-")
        self.assertInvalid(self.write("a.jsonl", b"".join(lines)), "line 2", "not valid UTF-8")

    def test_csv_wrong_header(self):
        data = to_csv(self.events, header=FIELDS[:-1] + ["HASH"])
        self.assertInvalid(self.write("a.csv", data), "line 1", "header must be exactly")

    def test_csv_wrong_field_count_reports_start_line_of_record(self):
        data = to_csv(self.events[:3]) + b"4,2026-03-06T09:00:00.000Z,only,a,few\r\n"
        line_no = data.count(b"\n")
        self.assertInvalid(self.write("a.csv", data), "line %d" % line_no,
                           "expected 12 fields, found 5")


# ---------------------------------------------------------------- checkpoints

class SigningCase(CliCase):
    """Two Ed25519 key pairs (signer, other) and checkpoints signed with them, over a 6-event export."""

    @classmethod
    def setUpClass(cls):
        cls._keys = tempfile.TemporaryDirectory()
        cls.keydir = cls._keys.name
        for name in ("signer", "other"):
            priv = os.path.join(cls.keydir, name + ".key")
            subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", priv], check=True)
            subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out",
                            os.path.join(cls.keydir, name + ".pub.pem")], check=True)

    @classmethod
    def tearDownClass(cls):
        cls._keys.cleanup()

    def key(self, name, suffix):
        return os.path.join(self.keydir, name + suffix)

    def sign(self, message, signer="signer"):
        msg = self.write("msg.txt", message.encode("utf-8"))
        sig = os.path.join(self.tmp, "sig.bin")
        subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", self.key(signer, ".key"),
                        "-rawin", "-in", msg, "-out", sig], check=True)
        with open(sig, "rb") as f:
            return base64.b64encode(f.read()).decode()

    def checkpoint(self, seq, h, signed_at="2026-03-06T10:00:00.123Z", signer="signer",
                   message=None, signed_message=None):
        text = "ltc-secrets audit checkpoint v1\nseq=%d\nhash=%s\nsignedAt=%s\n" % (seq, h, signed_at)
        with open(self.key(signer, ".pub.pem")) as f:
            pem = f.read()
        cp = {"seq": seq, "hash": h, "signedAt": signed_at,
              "message": message if message is not None else text,
              "signature": self.sign(signed_message if signed_message is not None else
                                     (message if message is not None else text), signer),
              "publicKeyPem": pem}
        return self.write("checkpoint.json", json.dumps(cp))

    def setUp(self):
        super().setUp()
        self.events = make_events(6)
        self.export = self.write("audit.jsonl", to_jsonl(self.events))



@unittest.skipUnless(HAVE_OPENSSL, "openssl not installed")
class CheckpointTest(SigningCase):
    def test_checkpoint_at_head_verifies(self):
        cp = self.checkpoint(6, self.events[-1]["hash"])
        self.assertValid(self.export, "--checkpoint", cp, expect=self.ok_line(self.events, 6))

    def test_checkpoint_in_middle_with_pinned_key_verifies_csv(self):
        cp = self.checkpoint(4, self.events[3]["hash"])
        export = self.write("audit.csv", to_csv(self.events))
        self.assertValid(export, "--checkpoint", cp, "--public-key", self.key("signer", ".pub.pem"),
                         expect=self.ok_line(self.events, 4, pinned=True))

    def test_truncated_export_not_covered_by_checkpoint(self):
        cp = self.checkpoint(6, self.events[-1]["hash"])
        truncated = self.write("trunc.jsonl", to_jsonl(self.events[:-1]))
        self.assertValid(truncated, expect=self.ok_line(self.events[:-1]))
        self.assertInvalid(truncated, "seq 6", "checkpoint not covered: export covers seq 1..5",
                           "--checkpoint", cp)

    def test_checkpoint_hash_differs_from_export(self):
        # A correctly signed checkpoint for a different history (e.g. the chain was rewritten).
        cp = self.checkpoint(3, "ee" * 32)
        self.assertInvalid(self.export, "seq 3", "checkpoint hash does not match the event's hash",
                           "--checkpoint", cp)

    def test_wrong_signature(self):
        cp_path = self.checkpoint(6, self.events[-1]["hash"])
        with open(cp_path) as f:
            cp = json.load(f)
        sig = bytearray(base64.b64decode(cp["signature"]))
        sig[10] ^= 0x01
        cp["signature"] = base64.b64encode(bytes(sig)).decode()
        cp_path = self.write("bad.json", json.dumps(cp))
        self.assertInvalid(self.export, "seq 6", "checkpoint signature does not verify",
                           "--checkpoint", cp_path)

    def test_signature_over_a_different_message(self):
        h = self.events[-1]["hash"]
        other = "ltc-secrets audit checkpoint v1\nseq=5\nhash=%s\nsignedAt=x\n" % h
        cp = self.checkpoint(6, h, signed_message=other)
        self.assertInvalid(self.export, "seq 6", "checkpoint signature does not verify",
                           "--checkpoint", cp)

    def test_message_not_matching_fields(self):
        # Signature is valid over the message, but the message names another seq.
        h = self.events[3]["hash"]
        msg = "ltc-secrets audit checkpoint v1\nseq=4\nhash=%s\nsignedAt=2026-03-06T10:00:00.123Z\n" % h
        cp = self.checkpoint(6, h, message=msg)
        self.assertInvalid(self.export, "seq 6",
                           "checkpoint message does not match its seq/hash/signedAt",
                           "--checkpoint", cp)

    def test_wrong_pinned_key(self):
        cp = self.checkpoint(6, self.events[-1]["hash"], signer="other")
        # Self-consistent checkpoint by another key verifies without pinning...
        self.assertValid(self.export, "--checkpoint", cp, expect=self.ok_line(self.events, 6))
        # ...and is rejected when the expected key is pinned.
        self.assertInvalid(self.export, "seq 6", "checkpoint public key does not match --public-key",
                           "--checkpoint", cp, "--public-key", self.key("signer", ".pub.pem"))

    def test_checkpoint_before_partial_export_not_covered(self):
        cp = self.checkpoint(2, self.events[1]["hash"])
        part = self.write("part.jsonl", to_jsonl(self.events[3:]))
        self.assertInvalid(part, "seq 2", "checkpoint not covered: export covers seq 4..6",
                           "--checkpoint", cp)


# ---------------------------------------------------------------- forged exports (issue 18.14)

def rehash(events, start=0):
    """Re-seal events[start:] so the chain links again: what a forger with write access does."""
    prev = events[start - 1]["hash"] if start else events[0]["prevHash"]
    for ev in events[start:]:
        ev["prevHash"] = prev
        seal(ev)
        prev = ev["hash"]
    return events


@unittest.skipUnless(HAVE_OPENSSL, "openssl not installed")
class ForgedExportTest(SigningCase):
    """Forgeries that hash-check: the OK line must say what was not proven, and --strict must refuse them."""

    def forged(self):
        events = make_events(6)
        events[2]["actor"] = "mallory"          # the forger rewrites history and re-hashes everything after
        return rehash(events, 2)

    def head(self, events):
        return "%d:%s" % (events[-1]["seq"], events[-1]["hash"])

    def test_rehashed_chain_with_checkpoint_signed_by_another_key_is_not_reported_as_verified(self):
        events = self.forged()
        export = self.write("forged.jsonl", to_jsonl(events))
        cp = self.checkpoint(6, events[-1]["hash"], signer="other")
        out, err = self.assertValid(export, "--checkpoint", cp, "--expect-head", self.head(events))
        self.assertIn("checkpoint seq=6 verified with the EMBEDDED key (not pinned)", out)
        self.assertIn("WARNING", err)
        self.assertIn("--public-key", err)
        rc, out, err = self.run_cli("--strict", "--checkpoint", cp, "--expect-head", self.head(events), export)
        self.assertEqual(rc, 1, out + err)
        self.assertRegex(out, r"^INVALID: --strict: not fully covered: signatures checked against the embedded")
        self.assertInvalid(export, "seq 6", "checkpoint public key does not match --public-key", "--checkpoint", cp,
                           "--public-key", self.key("signer", ".pub.pem"))

    def test_fully_rehashed_forgery_without_checkpoint_is_not_a_plain_ok(self):
        events = self.forged()
        export = self.write("forged.jsonl", to_jsonl(events))
        out, err = self.assertValid(export)
        self.assertIn("no checkpoint: NOTHING signed", out)
        rc, out, err = self.run_cli("--strict", "--expect-head", self.head(events), export)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("no signed checkpoint", out)

    def test_events_after_the_checkpoint_cut_off(self):
        cp = self.checkpoint(4, self.events[3]["hash"])
        cut = self.write("cut.jsonl", to_jsonl(self.events[:5]))
        out, err = self.assertValid(cut, "--checkpoint", cp, "--public-key", self.key("signer", ".pub.pem"))
        self.assertIn("signature covers seq 1..4; seq 5..5 NOT signed", out)
        self.assertIn("end not checked", out)
        self.assertInvalid(cut, "seq 5", r"export ends at seq 5, --expect-head says seq 6", "--checkpoint", cp,
                           "--expect-head", self.head(self.events))
        rc, out, err = self.run_cli("--strict", "--checkpoint", cp, "--public-key", self.key("signer", ".pub.pem"), cut)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("end not pinned", out)

    def test_events_after_the_checkpoint_replaced(self):
        cp = self.checkpoint(4, self.events[3]["hash"])
        events = make_events(6)
        events[5]["actor"] = "mallory"
        rehash(events, 5)
        export = self.write("replaced.jsonl", to_jsonl(events))
        self.assertInvalid(export, "seq 6", "hash at the export's end differs from --expect-head", "--checkpoint", cp,
                           "--public-key", self.key("signer", ".pub.pem"), "--expect-head", self.head(self.events))

    def test_events_cut_and_rehashed_at_the_end_are_refused(self):
        self.assertInvalid(self.write("cut.jsonl", to_jsonl(self.events[:4])), "seq 4",
                           "export ends at seq 4, --expect-head says seq 6", "--expect-head", self.head(self.events))

    def test_a_file_missing_its_first_events(self):
        part = self.write("part.jsonl", to_jsonl(self.events[2:]))
        cp = self.checkpoint(6, self.events[-1]["hash"])
        pem = self.key("signer", ".pub.pem")
        out, err = self.assertValid(part, "--checkpoint", cp, "--public-key", pem, "--expect-head", self.head(self.events))
        self.assertIn("start UNANCHORED", out)
        rc, out, err = self.run_cli("--strict", "--checkpoint", cp, "--public-key", pem,
                                    "--expect-head", self.head(self.events), part)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("start unanchored at seq 3", out)
        # Anchored to the hash before it, the same file is fully covered.
        out, err = self.assertValid(part, "--strict", "--checkpoint", cp, "--public-key", pem, "--anchor",
                                    self.events[1]["hash"], "--expect-head", self.head(self.events))
        self.assertIn("starts at --anchor", out)

    def test_strict_passes_when_everything_is_covered(self):
        pem = self.key("signer", ".pub.pem")
        cp = self.checkpoint(6, self.events[-1]["hash"])
        out, err = self.assertValid(self.export, "--strict", "--checkpoint", cp, "--public-key", pem,
                                    "--expect-head", self.head(self.events))
        self.assertEqual(out, "OK: 6 events, seq 1..6, head %s; starts at genesis; checkpoint seq=6 verified with "
                              "the pinned key, signature covers seq 1..6; end matches --expect-head seq 6\n"
                         % self.events[-1]["hash"])
        self.assertNotIn("WARNING", err)
        # The events after the checkpoint (its own audit event, at least) are named, pinned by the headers.
        cp = self.checkpoint(5, self.events[4]["hash"])
        out, err = self.assertValid(self.export, "--strict", "--checkpoint", cp, "--public-key", pem,
                                    "--expect-head", self.head(self.events))
        self.assertIn("seq 6..6 NOT signed (end matches --expect-head)", out)

    def test_expect_head_usage(self):
        for bad in ("6", "x:" + ZERO, "6:" + "0" * 63, "-1:" + ZERO):
            with self.subTest(bad=bad):
                rc, out, err = self.run_cli("--expect-head", bad, self.export)
                self.assertEqual((rc, out), (2, ""), err)


# ---------------------------------------------------------------- archives

@unittest.skipUnless(HAVE_OPENSSL, "openssl not installed")
class ArchiveTest(CliCase):
    """Archives as POST /audit/archive writes them: FILE, FILE.sig over SHA-256(FILE), and the anchor."""

    @classmethod
    def setUpClass(cls):
        cls._keys = tempfile.TemporaryDirectory()
        cls.keydir = cls._keys.name
        for name in ("signer", "other"):
            priv = os.path.join(cls.keydir, name + ".key")
            subprocess.run(["openssl", "genpkey", "-algorithm", "ed25519", "-out", priv], check=True)
            subprocess.run(["openssl", "pkey", "-in", priv, "-pubout", "-out",
                            os.path.join(cls.keydir, name + ".pub.pem")], check=True)

    @classmethod
    def tearDownClass(cls):
        cls._keys.cleanup()

    def setUp(self):
        super().setUp()
        self.chain = make_events(10)

    def pem(self, signer="signer"):
        return os.path.join(self.keydir, signer + ".pub.pem")

    def sign(self, data, signer="signer"):
        msg = self.write("to-sign.bin", data)
        sig = os.path.join(self.tmp, "sig.out")
        subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", os.path.join(self.keydir, signer + ".key"),
                        "-rawin", "-in", msg, "-out", sig], check=True)
        with open(sig, "rb") as f:
            return f.read()

    def archive(self, events, signer="signer", anchor_seq=None, anchor_hash=None, content=None):
        first, last = events[0]["seq"], events[-1]["seq"]
        name = "audit-%012d-%012d.jsonl" % (first, last)
        data = content if content is not None else to_jsonl(events)
        path = self.write(name, data)
        digest = hashlib.sha256(data).digest()
        self.write(name + ".sig", self.sign(digest, signer))
        seq = anchor_seq if anchor_seq is not None else last
        h = anchor_hash if anchor_hash is not None else events[-1]["hash"]
        message = ("ltc-secrets audit anchor v1\nfirstSeq=%d\nseq=%d\nhash=%s\nfile=%s\nsha256=%s\n"
                   "signedAt=2026-03-06T10:00:00.000Z\n" % (first, seq, h, name, digest.hex()))
        with open(self.pem(signer)) as f:
            pem = f.read()
        anchor = {"firstSeq": first, "seq": seq, "hash": h, "file": name, "sha256": digest.hex(),
                  "signedAt": "2026-03-06T10:00:00.000Z", "message": message,
                  "signature": base64.b64encode(self.sign(message.encode(), signer)).decode(), "publicKeyPem": pem}
        self.write(name[:-len(".jsonl")] + ".anchor.json", json.dumps(anchor))
        return path

    def archive_ok(self, events, pinned=False, start=None):
        if start is None:
            start = "starts at genesis" if events[0]["seq"] == 1 else (
                "start UNANCHORED (seq %d's prevHash taken as given)" % events[0]["seq"])
        return "OK: archive audit-%012d-%012d.jsonl: %d events, seq %d..%d, head %s; signature and anchor " \
               "verified with %s; %s" % (events[0]["seq"], events[-1]["seq"], len(events), events[0]["seq"],
                                         events[-1]["seq"], events[-1]["hash"],
                                         "the pinned key" if pinned else "the EMBEDDED key (not pinned)", start)

    def test_an_archive_verifies_on_its_own_with_its_signature_and_anchor(self):
        path = self.archive(self.chain[:6])
        self.assertValid(path, "--archive", expect=self.archive_ok(self.chain[:6]))
        self.assertValid(path, "--archive", "--public-key", self.pem(),
                         expect=self.archive_ok(self.chain[:6], pinned=True))
        # Strict: only with the pinned key.
        self.assertValid(path, "--archive", "--strict", "--public-key", self.pem())
        rc, out, err = self.run_cli("--archive", "--strict", path)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("embedded public key", out)

    def test_a_later_archive_links_to_the_previous_one_with_anchor(self):
        path = self.archive(self.chain[6:])
        out, err = self.assertValid(path, "--archive", "--anchor", self.chain[5]["hash"],
                                    expect=self.archive_ok(self.chain[6:], start="starts at --anchor"))
        self.assertInvalid(path, "seq 7", "prevHash of first event does not match --anchor",
                           "--archive", "--anchor", self.chain[4]["hash"])

    def test_a_later_archive_links_to_the_anchor_of_the_previous_one_beside_it(self):
        self.archive(self.chain[:6])
        path = self.archive(self.chain[6:])
        out, err = self.assertValid(path, "--archive", expect=self.archive_ok(
            self.chain[6:], start="linked to the anchor of audit-%012d-%012d.jsonl" % (1, 6)))
        self.assertNotIn("unanchored", err)

    def test_a_later_archive_alone_is_verified_unanchored_with_a_note(self):
        path = self.archive(self.chain[6:])
        out, err = self.assertValid(path, "--archive", expect=self.archive_ok(self.chain[6:]))
        self.assertIn("unanchored", err)
        rc, out, err = self.run_cli("--archive", "--strict", "--public-key", self.pem(), path)
        self.assertEqual(rc, 1, out + err)
        self.assertIn("start unanchored at seq 7", out)

    def test_a_changed_event_in_the_archive_is_detected_by_its_sha256(self):
        path = self.archive(self.chain[:6])
        with open(path, "rb") as f:
            data = f.read()
        with open(path, "wb") as f:
            f.write(data.replace(b"req-3", b"req-9"))
        rc, out, err = self.run_cli("--archive", path)
        self.assertEqual((rc, out), (1, "INVALID: archive SHA-256 differs from its signed anchor (the file was "
                                        "changed)\n"))

    def test_an_archive_re_signed_by_another_key_fails_against_the_pinned_key(self):
        path = self.archive(self.chain[:6], signer="other")
        self.assertValid(path, "--archive", expect=self.archive_ok(self.chain[:6]))
        self.assertInvalid(path, "seq 6", "anchor public key does not match --public-key",
                           "--archive", "--public-key", self.pem())

    def test_a_detached_signature_of_other_bytes_is_refused(self):
        path = self.archive(self.chain[:6])
        self.write(os.path.basename(path) + ".sig", self.sign(hashlib.sha256(b"other").digest()))
        rc, out, err = self.run_cli("--archive", path)
        self.assertEqual(rc, 1)
        self.assertRegex(out, r"^INVALID: archive signature \(audit-0+1-0+6\.jsonl\.sig\) does not verify")

    def test_an_anchor_whose_message_names_other_fields_is_refused(self):
        path = self.archive(self.chain[:6])
        anchor_path = path[:-len(".jsonl")] + ".anchor.json"
        with open(anchor_path) as f:
            anchor = json.load(f)
        anchor["hash"] = self.chain[4]["hash"]
        self.write(os.path.basename(anchor_path), json.dumps(anchor))
        self.assertInvalid(path, "seq 6", "anchor message does not match its fields", "--archive")

    def test_an_archive_missing_its_last_events_is_refused(self):
        # A correctly signed archive whose anchor names seq 6 while the file stops at seq 5.
        path = self.archive(self.chain[:6], content=to_jsonl(self.chain[:5]))
        self.assertInvalid(path, "seq 5", "ends at seq 5 with another hash than its anchor", "--archive")

    def test_a_live_export_verifies_after_the_anchor_or_the_archive(self):
        path = self.archive(self.chain[:6])
        live = self.write("live.jsonl", to_jsonl(self.chain[6:]))
        out, err = self.assertValid(live, "--after", path[:-len(".jsonl")] + ".anchor.json",
                                    expect=self.ok_line(self.chain[6:], after=6))
        self.assertNotIn("unanchored", err)
        self.assertValid(live, "--after", path, "--public-key", self.pem(),
                         expect=self.ok_line(self.chain[6:], after=6, pinned=True))

    def test_a_live_export_that_does_not_continue_the_anchor_is_refused(self):
        path = self.archive(self.chain[:6])
        self.assertInvalid(self.write("gap.jsonl", to_jsonl(self.chain[7:])), "seq 8",
                           "first event is seq 8, expected seq 7", "--after", path)
        forged = make_events(4, start_seq=7, prev="ab" * 32)
        self.assertInvalid(self.write("forged.jsonl", to_jsonl(forged)), "seq 7",
                           "prevHash of first event does not match --anchor", "--after", path)

    def test_after_a_tampered_archive_the_export_is_not_accepted(self):
        path = self.archive(self.chain[:6])
        with open(path, "ab") as f:
            f.write(b"\n")
        rc, out, err = self.run_cli("--after", path, self.write("live.jsonl", to_jsonl(self.chain[6:])))
        self.assertEqual(rc, 1)
        self.assertIn("archive SHA-256 differs", out)

    def test_archive_usage_errors(self):
        path = self.archive(self.chain[:6])
        live = self.write("live.jsonl", to_jsonl(self.chain[6:]))
        for args in (["--after", path, "--anchor", ZERO, live], ["--archive", "--after", path, live],
                     ["--archive", self.write("x.csv", b"")]):
            with self.subTest(args=args):
                rc, out, err = self.run_cli(*args)
                self.assertEqual((rc, out), (2, ""), err)


# ---------------------------------------------------------------- usage

class UsageTest(CliCase):
    def test_script_is_executable_with_python_shebang(self):
        self.assertTrue(os.access(SCRIPT, os.X_OK))
        with open(SCRIPT, "rb") as f:
            self.assertEqual(f.readline(), b"#!/usr/bin/env python3\n")

    def test_usage_errors_exit_2(self):
        export = self.write("audit.txt", to_jsonl(make_events(2)))
        good = self.write("audit.jsonl", to_jsonl(make_events(2)))
        cases = [
            [export],                                   # format cannot be guessed
            ["-"],                                      # stdin needs --format
            [os.path.join(self.tmp, "missing.jsonl")],  # file not found
            ["--anchor", "xyz", good],                  # malformed anchor
            ["--public-key", good, good],               # --public-key without --checkpoint/--after/--archive
            ["--checkpoint", os.path.join(self.tmp, "nope.json"), good],
            ["--format", "xml", good],
            [],
        ]
        for args in cases:
            with self.subTest(args=args):
                rc, out, err = self.run_cli(*args, stdin=b"")
                self.assertEqual(rc, 2, out + err)
                self.assertEqual(out, "")


if __name__ == "__main__":
    unittest.main()
