package org.lifetimecircle.secrets.access;

import jakarta.ws.rs.Consumes;
import jakarta.ws.rs.DELETE;
import jakarta.ws.rs.GET;
import jakarta.ws.rs.POST;
import jakarta.ws.rs.Path;
import jakarta.ws.rs.PathParam;
import jakarta.ws.rs.Produces;
import jakarta.ws.rs.QueryParam;
import jakarta.ws.rs.core.MediaType;
import jakarta.ws.rs.core.Response;
import java.net.URI;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Optional;
import java.util.regex.Pattern;
import org.eclipse.microprofile.openapi.annotations.Operation;
import org.eclipse.microprofile.openapi.annotations.security.SecurityRequirement;
import org.eclipse.microprofile.openapi.annotations.tags.Tag;
import org.lifetimecircle.secrets.access.PrincipalDtos.CreatePrincipal;
import org.lifetimecircle.secrets.access.PrincipalDtos.CreateToken;
import org.lifetimecircle.secrets.access.PrincipalDtos.IssuedToken;
import org.lifetimecircle.secrets.access.PrincipalDtos.PrincipalView;
import org.lifetimecircle.secrets.access.PrincipalDtos.TokenView;
import org.lifetimecircle.secrets.audit.Audited;
import org.lifetimecircle.secrets.auth.CallerContext;
import org.lifetimecircle.secrets.auth.Permission;
import org.lifetimecircle.secrets.auth.Requires;
import org.lifetimecircle.secrets.web.ApiException;
import org.lifetimecircle.secrets.web.QueryParams;
import org.lifetimecircle.secrets.web.Reason;

/** Principals and their API tokens. */
@Path("/api/v1")
@Produces(MediaType.APPLICATION_JSON)
@Tag(name = "principals")
@SecurityRequirement(name = "bearer")
public class PrincipalResource {

    private static final Pattern TOKEN_ID = Pattern.compile("[0-9a-f]{16}");

    private final PrincipalService principals;
    private final TokenService tokens;
    private final TokenRepository tokenRepository;
    private final CallerContext caller;

    PrincipalResource(PrincipalService principals, TokenService tokens, TokenRepository tokenRepository,
                      CallerContext caller) {
        this.principals = principals;
        this.tokens = tokens;
        this.tokenRepository = tokenRepository;
        this.caller = caller;
    }

    @POST
    @Path("/principals")
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("principal.create")
    @Requires(Permission.PRINCIPAL_MANAGE)
    @Operation(summary = "Create a principal with one role")
    public Response create(CreatePrincipal body) {
        if (body == null) {
            throw ApiException.invalid("a JSON body {name, role} is required");
        }
        PrincipalEntity p = principals.create(new PrincipalName(body.name()), body.role(), caller.require().name());
        return Response.created(URI.create("/api/v1/principals/" + p.name)).entity(PrincipalView.of(p)).build();
    }

    @GET
    @Path("/principals")
    @Audited("principal.list")
    @Requires(Permission.PRINCIPAL_MANAGE)
    @Operation(summary = "List principals")
    public List<PrincipalView> list() {
        return principals.list().stream().map(PrincipalView::of).toList();
    }

    @GET
    @Path("/principals/{name}")
    @Audited("principal.read")
    @Requires(Permission.PRINCIPAL_MANAGE)
    @Operation(summary = "Show one principal")
    public PrincipalView get(@PathParam("name") String name) {
        return PrincipalView.of(existing(name));
    }

    @DELETE
    @Path("/principals/{name}")
    @Audited("principal.disable")
    @Requires(Permission.PRINCIPAL_MANAGE)
    @Operation(summary = "Disable a principal for good (reason required): its tokens and grants are revoked, its "
            + "history kept, its name never reused. 409 for the caller itself or the last enabled admin; "
            + "204 again for a disabled principal")
    public Response disable(@PathParam("name") String name, @QueryParam("reason") String reason) {
        PrincipalName principal = new PrincipalName(name);
        principals.disable(principal, Reason.of("reason", reason), caller.require());
        return Response.noContent().build();
    }

    @GET
    @Path("/principals/{name}/tokens")
    @Audited("token.list")
    @Requires(Permission.PRINCIPAL_MANAGE)
    @Operation(summary = "A principal's tokens, newest first: id, createdAt, expiresAt, lastUsedAt (the last request "
            + "the token authenticated), revokedAt; never the token")
    public List<TokenView> listTokens(@PathParam("name") String name, @QueryParam("limit") String limit) {
        int max = QueryParams.limit(limit);
        return tokenRepository.of(existing(name), max).stream().map(TokenView::of).toList();
    }

    @POST
    @Path("/principals/{name}/tokens")
    @Consumes(MediaType.APPLICATION_JSON)
    @Audited("token.create")
    @Requires(Permission.PRINCIPAL_MANAGE)
    @Operation(summary = "Issue a token; the response is the only time it is shown")
    public Response issueToken(@PathParam("name") String name, CreateToken body) {
        new PrincipalName(name);
        Optional<Duration> ttl = Optional.ofNullable(body).map(CreateToken::ttl).map(PrincipalResource::duration);
        TokenService.Issued issued = tokens.issue(name, ttl, caller.require().name());
        return Response.status(Response.Status.CREATED)
                .header("Cache-Control", "no-store")
                .entity(new IssuedToken(issued.id(), issued.token(), issued.expiresAt()))
                .build();
    }

    @DELETE
    @Path("/tokens/{id}")
    @Audited("token.revoke")
    @Requires(Permission.PRINCIPAL_MANAGE)
    @Operation(summary = "Revoke a token; it fails from the next request on")
    public Response revokeToken(@PathParam("id") String id) {
        if (!TOKEN_ID.matcher(id).matches()) {
            throw ApiException.invalid("token id must be 16 hex characters");
        }
        tokens.revoke(id, caller.require().name());
        return Response.noContent().build();
    }

    private PrincipalEntity existing(String name) {
        new PrincipalName(name);
        return principals.find(name).orElseThrow(() -> ApiException.notFound("no principal '" + name + "'"));
    }

    private static Duration duration(String text) {
        try {
            return Duration.parse(text);
        } catch (DateTimeParseException e) {
            throw ApiException.invalid("field 'ttl' must be an ISO-8601 duration such as PT8H or P30D");
        }
    }
}
