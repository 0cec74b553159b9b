package org.lifetimecircle.secrets.web;

import jakarta.ws.rs.core.Application;
import org.eclipse.microprofile.openapi.annotations.OpenAPIDefinition;
import org.eclipse.microprofile.openapi.annotations.enums.SecuritySchemeType;
import org.eclipse.microprofile.openapi.annotations.info.Info;
import org.eclipse.microprofile.openapi.annotations.security.SecurityScheme;

/** The OpenAPI document's header and the bearer scheme every {@code /api/v1} operation uses. */
@OpenAPIDefinition(info = @Info(title = "ltc-secrets", version = "0.1.0",
        description = "Secrets lifecycle service: generated keys, env files, grants, rotation history and audit trail. "
                + "Errors are application/problem+json with a stable code. On a shared PostgreSQL store only the "
                + "active instance serves /api/v1: a standby answers every /api/v1 operation 503 with code standby "
                + "and the active instance's URL in the X-Active-Instance header."))
@SecurityScheme(securitySchemeName = "bearer", type = SecuritySchemeType.HTTP, scheme = "bearer",
        description = "API token (ltcs_…) issued by POST /api/v1/principals/{name}/tokens")
public class OpenApiDefinition extends Application {
}
