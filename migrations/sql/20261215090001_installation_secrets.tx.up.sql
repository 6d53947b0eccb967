-- installation_secrets: random keys of the installation, made by the first
-- instance that needs one (app.installationSecret) and read by every other
-- from here, so that all instances of a deployment hold the same key
-- without any setting, and no rotation of the signing or Web Push keys
-- changes it. name says what the key is for ("access.revoked tokens":
-- the key that names users in access.revoked events, api.RevokeToken).
CREATE TABLE installation_secrets (
    name       TEXT PRIMARY KEY,
    secret     {{.Bytes}} NOT NULL,
    created_at {{.TS}} NOT NULL
);
