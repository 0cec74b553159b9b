package org.lifetimecircle.secrets.db;

import java.sql.CallableStatement;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import org.hibernate.type.descriptor.ValueBinder;
import org.hibernate.type.descriptor.ValueExtractor;
import org.hibernate.type.descriptor.WrapperOptions;
import org.hibernate.type.descriptor.java.JavaType;
import org.hibernate.type.descriptor.jdbc.BasicBinder;
import org.hibernate.type.descriptor.jdbc.BasicExtractor;
import org.hibernate.type.descriptor.jdbc.TimestampUtcAsJdbcTimestampJdbcType;

/**
 * Every {@code Instant} column is an INTEGER of epoch milliseconds (the migrations say so); this
 * binds and reads it as exactly that, with {@code setLong}/{@code getLong}.
 *
 * <p>Why not Hibernate's default: it passes one {@code Calendar} shared by the whole JVM to
 * {@code ResultSet.getTimestamp(int, Calendar)}, and sqlite-jdbc answers that by setting the
 * calendar to the value it read and reading it back. Two threads reading times at once could each
 * get the other's value, and the single writer then wrote such a value back with the whole dirty
 * row: the crash drill found a rotation whose {@code requested_at} was another secret's version
 * time. With no calendar there is no shared state. The stored bytes are the same as before.
 */
public final class EpochMillisInstantJdbcType extends TimestampUtcAsJdbcTimestampJdbcType {

    public static final EpochMillisInstantJdbcType INSTANCE = new EpochMillisInstantJdbcType();

    @Override
    public <X> ValueBinder<X> getBinder(JavaType<X> javaType) {
        return new BasicBinder<>(javaType, this) {
            @Override
            protected void doBind(PreparedStatement st, X value, int index, WrapperOptions options) throws SQLException {
                st.setLong(index, millis(javaType, value, options));
            }

            @Override
            protected void doBind(CallableStatement st, X value, String name, WrapperOptions options)
                    throws SQLException {
                st.setLong(name, millis(javaType, value, options));
            }
        };
    }

    @Override
    public <X> ValueExtractor<X> getExtractor(JavaType<X> javaType) {
        return new BasicExtractor<>(javaType, this) {
            @Override
            protected X doExtract(ResultSet rs, int position, WrapperOptions options) throws SQLException {
                long millis = rs.getLong(position);
                return rs.wasNull() ? null : instant(javaType, millis, options);
            }

            @Override
            protected X doExtract(CallableStatement st, int position, WrapperOptions options) throws SQLException {
                long millis = st.getLong(position);
                return st.wasNull() ? null : instant(javaType, millis, options);
            }

            @Override
            protected X doExtract(CallableStatement st, String name, WrapperOptions options) throws SQLException {
                long millis = st.getLong(name);
                return st.wasNull() ? null : instant(javaType, millis, options);
            }
        };
    }

    private static <X> long millis(JavaType<X> javaType, X value, WrapperOptions options) {
        return javaType.unwrap(value, Instant.class, options).toEpochMilli();
    }

    private static <X> X instant(JavaType<X> javaType, long millis, WrapperOptions options) {
        return javaType.wrap(Instant.ofEpochMilli(millis), options);
    }
}
