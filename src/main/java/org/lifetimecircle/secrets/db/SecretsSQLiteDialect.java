package org.lifetimecircle.secrets.db;

import org.hibernate.boot.model.TypeContributions;
import org.hibernate.community.dialect.SQLiteDialect;
import org.hibernate.engine.jdbc.dialect.spi.DialectResolutionInfo;
import org.hibernate.service.ServiceRegistry;
import org.hibernate.type.SqlTypes;
import org.hibernate.type.descriptor.jdbc.VarbinaryJdbcType;

/**
 * The community SQLite dialect with {@code Instant} columns read and written as epoch milliseconds
 * without a shared {@code Calendar} (see {@link EpochMillisInstantJdbcType}). Configured as
 * {@code quarkus.hibernate-orm.dialect}, so every entity's time columns use it, new ones included.
 */
public class SecretsSQLiteDialect extends SQLiteDialect {

    public SecretsSQLiteDialect() {
    }

    public SecretsSQLiteDialect(DialectResolutionInfo info) {
        super(info);
    }

    /**
     * Generated ids come back with {@code INSERT … RETURNING} (SQLite 3.35+), not with a second statement,
     * {@code select last_insert_rowid()}: the same SQL then runs on PostgreSQL, which has no such function.
     */
    @Override
    public boolean supportsInsertReturning() {
        return true;
    }

    @Override
    public void contributeTypes(TypeContributions typeContributions, ServiceRegistry serviceRegistry) {
        super.contributeTypes(typeContributions, serviceRegistry);
        typeContributions.getTypeConfiguration().getJdbcTypeRegistry()
                .addDescriptor(SqlTypes.TIMESTAMP_UTC, EpochMillisInstantJdbcType.INSTANCE);
        // byte[] columns resolve to a (materialized) BLOB here, and a null BLOB binds as setNull(Types.BLOB), which
        // pgjdbc sends as an oid: PostgreSQL then refuses it for a bytea column. VARBINARY binds the same bytes on
        // both stores and a null that both accept.
        var registry = typeContributions.getTypeConfiguration().getJdbcTypeRegistry();
        registry.addDescriptor(SqlTypes.BLOB, VarbinaryJdbcType.INSTANCE);
        registry.addDescriptor(SqlTypes.MATERIALIZED_BLOB, VarbinaryJdbcType.INSTANCE);
    }
}
