/**
 * An installation of the app on a user, organization or enterprise account.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { Account, SimpleUser } from "./Account.js"
import { Permissions } from "./Permissions.js"
import { RepositorySelection } from "./Repository.js"

/**
 * `User`, `Organization`, `Enterprise`, or a type GitHub adds later.
 *
 * @since 0.1.0
 * @category models
 */
export type TargetType = "User" | "Organization" | "Enterprise" | (string & {})

/**
 * @since 0.1.0
 * @category schemas
 */
export const TargetType = Schema.String as Schema.Schema<TargetType, string>

/**
 * An installation, as `GET /app/installations`, `GET /app/installations/{installation_id}` and the
 * `GET /orgs|repos|users|enterprises/.../installation` routes return it.
 *
 * `account` is null when the account is gone; `suspended_by` and `suspended_at` are null unless the installation
 * is suspended; `single_file_name` is null unless the app asked for single-file access. GitHub always sends all
 * four (required and nullable in its description), so they are required here: no defaulting transformation slows
 * down decoding pages of installations.
 *
 * @since 0.1.0
 * @category models
 */
export class Installation extends Schema.Class<Installation>("Installation")({
  id: Schema.Int,
  account: Schema.NullOr(Account),
  app_id: Schema.Int,
  app_slug: Schema.String,
  client_id: Schema.optional(Schema.String),
  target_id: Schema.Int,
  target_type: TargetType,
  repository_selection: RepositorySelection,
  permissions: Permissions,
  events: Schema.Array(Schema.String),
  access_tokens_url: Schema.String,
  repositories_url: Schema.String,
  html_url: Schema.String,
  created_at: Schema.Date,
  updated_at: Schema.Date,
  single_file_name: Schema.NullOr(Schema.String),
  has_multiple_single_files: Schema.optional(Schema.Boolean),
  single_file_paths: Schema.optional(Schema.Array(Schema.String)),
  suspended_by: Schema.NullOr(SimpleUser),
  suspended_at: Schema.NullOr(Schema.Date),
  contact_email: Schema.optional(Schema.NullOr(Schema.String))
}) {
  /**
   * True when the installation is suspended: its tokens are refused until it is unsuspended.
   *
   * @since 0.1.0
   */
  get isSuspended(): boolean {
    return this.suspended_at !== null
  }
}
