/**
 * The GitHub App itself, as `GET /app` returns it for the app's JWT.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Account } from "./Account.js"
import { Permissions } from "./Permissions.js"

/**
 * A GitHub App (GitHub's "integration" schema). `slug` and `client_id` are optional in GitHub's description;
 * secrets that other routes add to this shape (`client_secret`, `webhook_secret`, `pem`) are dropped on
 * decoding like any unknown field.
 *
 * @since 0.1.0
 * @category models
 */
export class GithubApp extends Schema.Class<GithubApp>("GithubApp")({
  id: Schema.Int,
  slug: Schema.optional(Schema.String),
  node_id: Schema.String,
  client_id: Schema.optional(Schema.String),
  owner: Account,
  name: Schema.String,
  description: Schema.NullOr(Schema.String),
  external_url: Schema.String,
  html_url: Schema.String,
  created_at: Schema.Date,
  updated_at: Schema.Date,
  permissions: Permissions,
  events: Schema.Array(Schema.String),
  installations_count: Schema.optional(Schema.Int)
}) {}
