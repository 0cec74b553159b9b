"""Tests of k8s-free-deploy/ltc-secrets-db that need no PostgreSQL server: Flyway's checksum, the COPY text format,
the normalized digests, the connection settings (the password only ever in the child's environment), the copy order
and the migrations read from a packaged jar.

Run from the repository root:
    python3 -m unittest discover -s tools -p 'test_*.py'

The copy into a real PostgreSQL, the service starting on it and backup/restore are PostgresMigrationIT (./mvnw verify).
"""

import os
import tempfile
import unittest
import zipfile
from importlib.machinery import SourceFileLoader
from importlib.util import module_from_spec, spec_from_loader
from unittest import mock

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)


def load(name, path):
    loader = SourceFileLoader(name, path)
    module = module_from_spec(spec_from_loader(name, loader))
    loader.exec_module(module)
    return module


db = load("ltc_secrets_db", os.path.join(REPO, "k8s-free-deploy", "ltc-secrets-db"))


class FlywayChecksumTest(unittest.TestCase):

    def test_theChecksumOfThePackagedSchemaIsTheOneFlywayRecorded(self):
        # What the service's own Flyway wrote into flyway_schema_history for this file. An applied migration never
        # changes (Flyway would refuse every installed store), and PostgresMigrationIT compares the whole row anyway.
        with open(os.path.join(REPO, "src/main/resources/db/migration/postgresql/V13__schema.sql"), "rb") as f:
            text = f.read().decode("utf-8")
        self.assertEqual(db.flyway_checksum(text), 1304014782)

    def test_lineEndsAndABomDoNotChangeIt(self):
        lf = "CREATE TABLE a (id INT);\n-- x\n\nSELECT 1;\n"
        self.assertEqual(db.flyway_checksum(lf), db.flyway_checksum(lf.replace("\n", "\r\n")))
        self.assertEqual(db.flyway_checksum(lf), db.flyway_checksum(lf.replace("\n", "\r")))
        self.assertEqual(db.flyway_checksum(lf), db.flyway_checksum("\ufeff" + lf))
        self.assertEqual(db.flyway_checksum(lf), db.flyway_checksum(lf.rstrip("\n")))
        self.assertNotEqual(db.flyway_checksum(lf), db.flyway_checksum(lf + "x\n"))

    def test_itIsASignedCrc32OfTheLines(self):
        import zlib
        crc = zlib.crc32(b"b", zlib.crc32(b"a"))
        self.assertEqual(db.flyway_checksum("a\nb\n"), crc - (1 << 32) if crc >= 1 << 31 else crc)
        self.assertEqual(db.flyway_checksum(""), 0)


class CopyFormatTest(unittest.TestCase):

    def test_nullEscapesAndBytea(self):
        self.assertEqual(db.copy_field(None, "text"), "\\N")
        self.assertEqual(db.copy_field("a\tb\nc\\d\re", "text"), "a\\tb\\nc\\\\d\\re")
        self.assertEqual(db.copy_field(b"\x00\xff", "bytea"), "\\\\x00ff")
        self.assertEqual(db.copy_field(42, "bigint"), "42")
        self.assertEqual(db.copy_field("\\N", "text"), "\\\\N")

    def test_nulCannotBeCopied(self):
        with self.assertRaises(db.Failure):
            db.copy_field("a\0b", "text")

    def test_digestsAgreeAcrossTheStoresRepresentations(self):
        lite, pg = db.TableDigest(), db.TableDigest()
        cols = [("id", "bigint"), ("sealed", "bytea"), ("note", "text")]
        for row in ((1, b"\x01\x02", None), (2, b"", "x")):
            lite.add([db.normalize(v, t) for v, (_, t) in zip(row, cols)])
        # PostgreSQL's row_to_json, in another order: bytea as \x hex, bigint as a number.
        for row in ((2, "\\x", "x"), (1, "\\x0102", None)):
            pg.add([db.normalize(v, t) for v, (_, t) in zip(row, cols)])
        self.assertEqual(lite.result(), pg.result())
        pg.add([3, None, None])
        self.assertNotEqual(lite.result(), pg.result())

    def test_bindQuotesLiterals(self):
        self.assertEqual(db.bind("select ? , ?", (5, "it's")), "select 5 , 'it''s'")
        with self.assertRaises(ValueError):
            db.bind("select ?", ())


class ConnectionTest(unittest.TestCase):

    def test_aJdbcUrlBecomesTheChildsEnvironmentAndThePasswordStaysOutOfMessages(self):
        with tempfile.NamedTemporaryFile("w", delete=False) as f:
            f.write("  s3cret-pw \nsecond line\n")
        try:
            pg = db.Postgres("jdbc:postgresql://db.example:6543/ltc?sslmode=verify-full", "ltc", f.name)
        finally:
            os.unlink(f.name)
        self.assertEqual((pg.env["PGHOST"], pg.env["PGPORT"], pg.env["PGDATABASE"], pg.env["PGUSER"]),
                         ("db.example", "6543", "ltc", "ltc"))
        self.assertEqual(pg.env["PGSSLMODE"], "verify-full")
        self.assertEqual(pg.env["PGPASSWORD"], "s3cret-pw")
        self.assertNotIn("s3cret", pg.where)
        self.assertNotIn("s3cret", " ".join(pg.psql_args("-c", "select 1")))

    def test_aPasswordInTheUrlIsNeverPrinted(self):
        pg = db.Postgres("postgresql://u:hunter2@127.0.0.1/x")
        self.assertEqual(pg.env["PGPASSWORD"], "hunter2")
        self.assertNotIn("hunter2", pg.where)

    def test_theCallersPgVariablesDoNotRedirectIt(self):
        with mock.patch.dict(os.environ, {"PGHOST": "elsewhere", "PGPASSWORD": "old"}):
            pg = db.Postgres("jdbc:postgresql://127.0.0.1:5432/x", "ltc")
        self.assertEqual(pg.env["PGHOST"], "127.0.0.1")
        self.assertNotIn("PGPASSWORD", pg.env)

    def test_otherUrlsAreRefused(self):
        for url in ("jdbc:sqlite:/x.db", "", "jdbc:postgresql://h/"):
            with self.assertRaises(db.Failure):
                db.Postgres(url)

    def test_theUnitsSettingsWithACredentialPasswordFile(self):
        with tempfile.TemporaryDirectory() as root:
            unit = os.path.join(root, db.UNIT)
            os.makedirs(unit + ".d")
            with open(unit, "w") as f:
                f.write("[Service]\nEnvironment=LTC_SECRETS_DATA_DIR=/var/lib/ltc-secrets\n")
            with open(os.path.join(unit + ".d", "store.conf"), "w") as f:
                f.write("[Service]\nLoadCredential=store.password:/etc/ltc-secrets/store.password\n"
                        "Environment=LTC_SECRETS_STORE=postgresql "
                        "LTC_SECRETS_STORE_URL=jdbc:postgresql://127.0.0.1:5432/ltc\n"
                        "Environment=LTC_SECRETS_STORE_PASSWORD_FILE=%d/store.password\n")
            s = db.unit_settings(root)
        self.assertEqual(s["LTC_SECRETS_STORE"], "postgresql")
        self.assertEqual(s["LTC_SECRETS_STORE_URL"], "jdbc:postgresql://127.0.0.1:5432/ltc")
        self.assertEqual(s["LTC_SECRETS_STORE_PASSWORD_FILE"], os.path.join(root, "etc/ltc-secrets/store.password"))


class SchemaTest(unittest.TestCase):

    def test_referencedTablesAreCopiedFirst(self):
        fks = [("api_token", "principal"), ("access_grant", "principal"), ("rotation_step", "rotation"),
               ("emergency_secret", "rotation")]
        order = db.copy_order(["rotation_step", "api_token", "principal", "rotation", "emergency_secret",
                               "access_grant", "audit_event"], fks)
        for child, parent in fks:
            self.assertLess(order.index(parent), order.index(child))

    def test_theJarsMigrationsInVersionOrderWithTheirHistoryRows(self):
        with tempfile.TemporaryDirectory() as d:
            jar = os.path.join(d, "app.jar")
            with zipfile.ZipFile(jar, "w") as z:
                z.writestr("db/migration/postgresql/", "")
                z.writestr("db/migration/postgresql/V13__schema.sql", "CREATE TABLE a (id INT);\n")
                z.writestr("db/migration/postgresql/V14__ha_lease.sql", "CREATE TABLE b (id INT);\n")
                z.writestr("db/migration/postgresql/V9__older.sql", "SELECT 1;\n")
                z.writestr("db/migration/sqlite/V1__x.sql", "SELECT 1;\n")
            migrations = db.jar_migrations(jar)
        self.assertEqual([m[0] for m in migrations], ["9", "13", "14"])
        self.assertEqual(migrations[2][1:3], ("ha lease", "db/migration/postgresql/V14__ha_lease.sql"))
        script = db.schema_script(migrations)
        self.assertIn("(3, '14', 'ha lease', 'SQL', 'db/migration/postgresql/V14__ha_lease.sql', %d, current_user"
                      % db.flyway_checksum("CREATE TABLE b (id INT);\n"), script)
        self.assertLess(script.index("CREATE TABLE a"), script.index("CREATE TABLE b"))


class RefusalTest(unittest.TestCase):
    """What migrate-to-postgresql refuses before it ever connects to PostgreSQL (the URL here leads nowhere)."""

    def setUp(self):
        import sqlite3
        self.dir = tempfile.TemporaryDirectory()
        d = self.dir.name
        self.db = os.path.join(d, "ltc-secrets.db")
        c = sqlite3.connect(self.db)
        c.execute("create table flyway_schema_history (installed_rank int, version text, success int)")
        c.execute("insert into flyway_schema_history values (1, '1', 1), (2, '12', 1)")
        c.commit()
        c.close()
        os.makedirs(os.path.join(d, "app", "app"))
        with zipfile.ZipFile(os.path.join(d, "app", "app", "ltc-secrets.jar"), "w") as z:
            z.writestr("db/migration/postgresql/V13__schema.sql", "CREATE TABLE a (id INT);\n")
        self.pg = db.Postgres("jdbc:postgresql://127.0.0.1:1/nowhere", "ltc")

    def tearDown(self):
        self.dir.cleanup()

    def migrate(self):
        return db.migrate_to_postgresql(self.db, self.pg, os.path.join(self.dir.name, "app"),
                                        os.path.join(REPO, "tools", "audit-verify"))

    def test_anotherSchemaVersionIsRefused(self):
        with self.assertRaises(db.Failure) as e:
            self.migrate()
        self.assertIn("schema version 12", str(e.exception))
        self.assertIn("at 13", str(e.exception))

    def holder(self):
        """A process that has the store open (as the service would) once it has said so."""
        import subprocess
        import sys
        child = subprocess.Popen([sys.executable, "-c", "import sys; f = open(sys.argv[1], 'rb'); print('open', "
                                  "flush=True); sys.stdin.read()", self.db], stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
        self.assertEqual(child.stdout.readline(), b"open\n")
        return child

    def test_aStoreAnotherProcessHasOpenIsRefused(self):
        child = self.holder()
        try:
            self.assertIn(child.pid, db.service_pids(self.db))
            with self.assertRaises(db.Failure) as e:
                self.migrate()
            self.assertIn("%d have %s open: stop the service first" % (child.pid, self.db), str(e.exception))
        finally:
            child.stdin.close()
            child.wait()
        # This process reads the file itself and is never counted.
        self.assertEqual(db.service_pids(self.db), [])

if __name__ == "__main__":
    unittest.main()
