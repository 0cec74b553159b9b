/**
 * HTTP plumbing every endpoint shares: problem responses, request ids and body limits, strict JSON, the OpenAPI
 * header, and the common query parameters and reasons.
 *
 * <p>May use: config.
 */
package org.lifetimecircle.secrets.web;
