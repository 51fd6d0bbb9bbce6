/**
 * The accounts GitHub embeds in apps and installations: users and organizations ("simple-user") and enterprises.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * `User`, `Organization`, `Bot`, or a type GitHub adds later.
 *
 * @since 0.1.0
 * @category models
 */
export type AccountType = "User" | "Organization" | "Bot" | (string & {})

/**
 * Any string; typed so that the known values autocomplete. No transformation: decoding stays a type check.
 *
 * @since 0.1.0
 * @category schemas
 */
export const AccountType = Schema.String as Schema.Schema<AccountType, string>

/**
 * A user or an organization, GitHub's "simple-user" without its hypermedia URL templates (`followers_url`, ...),
 * which are dropped on decoding like any unknown field.
 *
 * @since 0.1.0
 * @category models
 */
export class SimpleUser extends Schema.Class<SimpleUser>("SimpleUser")({
  login: Schema.String,
  id: Schema.Int,
  node_id: Schema.String,
  type: AccountType,
  site_admin: Schema.Boolean,
  avatar_url: Schema.String,
  gravatar_id: Schema.optional(Schema.NullOr(Schema.String)),
  url: Schema.String,
  html_url: Schema.String,
  name: Schema.optional(Schema.NullOr(Schema.String)),
  email: Schema.optional(Schema.NullOr(Schema.String)),
  user_view_type: Schema.optional(Schema.String)
}) {}

/**
 * An enterprise account (GitHub's "enterprise" schema), e.g. the owner of an enterprise-level installation.
 *
 * @since 0.1.0
 * @category models
 */
export class Enterprise extends Schema.Class<Enterprise>("Enterprise")({
  id: Schema.Int,
  node_id: Schema.String,
  name: Schema.String,
  slug: Schema.String,
  html_url: Schema.String,
  avatar_url: Schema.String,
  description: Schema.optional(Schema.NullOr(Schema.String)),
  website_url: Schema.optional(Schema.NullOr(Schema.String)),
  created_at: Schema.optional(Schema.NullOr(Schema.Date)),
  updated_at: Schema.optional(Schema.NullOr(Schema.Date))
}) {}

/**
 * The account an app or installation belongs to. Tell them apart with `instanceof Account.Enterprise`, or
 * `Account.name(account)` for the login or slug.
 *
 * @since 0.1.0
 * @category schemas
 */
export const Account = Schema.Union(SimpleUser, Enterprise)

/**
 * @since 0.1.0
 * @category models
 */
export type Account = SimpleUser | Enterprise

/**
 * The account's handle: a user's or organization's `login`, an enterprise's `slug`.
 *
 * @since 0.1.0
 * @category accessors
 */
export const name = (account: Account): string => account instanceof Enterprise ? account.slug : account.login
