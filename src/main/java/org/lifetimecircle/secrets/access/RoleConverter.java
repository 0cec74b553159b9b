package org.lifetimecircle.secrets.access;

import jakarta.persistence.AttributeConverter;
import jakarta.persistence.Converter;
import org.lifetimecircle.secrets.auth.Role;

/** Stores a role by its wire name, which the schema's CHECK constraint also lists. */
@Converter
class RoleConverter implements AttributeConverter<Role, String> {

    @Override
    public String convertToDatabaseColumn(Role role) {
        return role == null ? null : role.id();
    }

    @Override
    public Role convertToEntityAttribute(String id) {
        return id == null ? null : Role.fromId(id).orElseThrow(() -> new IllegalStateException("unknown role in database"));
    }
}
