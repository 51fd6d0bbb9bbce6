/**
 * An installation access token and what it may do, as `POST /app/installations/{installation_id}/access_tokens`
 * returns it.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Permissions } from "./Permissions.js"
import { Repository, RepositorySelection } from "./Repository.js"

/**
 * An installation access token (PyGithub's `InstallationAuthorization`). `token` is `Redacted` from the moment it
 * is decoded: printing, logging or `JSON.stringify` of this value shows `<redacted>`; `Redacted.value` reveals it.
 * `token` and `expires_at` are required (GitHub's description requires only those); the rest is optional.
 *
 * @since 0.1.0
 * @category models
 */
export class InstallationAuthorization extends Schema.Class<InstallationAuthorization>("InstallationAuthorization")({
  token: Schema.Redacted(Schema.String),
  expires_at: Schema.Date,
  permissions: Schema.optional(Permissions),
  repository_selection: Schema.optional(RepositorySelection),
  repositories: Schema.optional(Schema.Array(Repository)),
  single_file: Schema.optional(Schema.NullOr(Schema.String)),
  single_file_paths: Schema.optional(Schema.Array(Schema.String)),
  has_multiple_single_files: Schema.optional(Schema.Boolean)
}) {}
