package org.lifetimecircle.secrets.access;

import jakarta.persistence.AttributeConverter;
import jakarta.persistence.Converter;
import org.lifetimecircle.secrets.auth.Permission;

/** Stores a permission by its wire name, which the schema's CHECK constraint also lists. */
@Converter
public class PermissionConverter implements AttributeConverter<Permission, String> {

    @Override
    public String convertToDatabaseColumn(Permission permission) {
        return permission == null ? null : permission.id();
    }

    @Override
    public Permission convertToEntityAttribute(String id) {
        return id == null ? null
                : Permission.fromId(id).orElseThrow(() -> new IllegalStateException("unknown permission in database"));
    }
}
