// Package auth owns users, password hashing, access tokens (EdDSA JWTs, key
// set, JWKS), refresh sessions and the Principal of a request.
package auth
