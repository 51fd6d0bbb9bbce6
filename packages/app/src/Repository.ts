/**
 * The repositories an installation can reach, as `GET /installation/repositories` and access tokens list them.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import { SimpleUser } from "./Account.js"

/**
 * Whether an installation (or token) covers all of the account's repositories or a selection.
 *
 * @since 0.1.0
 * @category schemas
 */
export const RepositorySelection = Schema.Literal("all", "selected")

/**
 * @since 0.1.0
 * @category models
 */
export type RepositorySelection = typeof RepositorySelection.Type

/**
 * What the authenticated actor may do in the repository.
 *
 * @since 0.1.0
 * @category models
 */
export class RepositoryPermissions extends Schema.Class<RepositoryPermissions>("RepositoryPermissions")({
  admin: Schema.Boolean,
  pull: Schema.Boolean,
  push: Schema.Boolean,
  maintain: Schema.optional(Schema.Boolean),
  triage: Schema.optional(Schema.Boolean)
}) {}

/**
 * @since 0.1.0
 * @category models
 */
export class License extends Schema.Class<License>("License")({
  key: Schema.String,
  name: Schema.String,
  spdx_id: Schema.optional(Schema.NullOr(Schema.String)),
  url: Schema.optional(Schema.NullOr(Schema.String)),
  node_id: Schema.optional(Schema.String)
}) {}

/**
 * A repository, GitHub's "repository" schema reduced to what a GitHub App acts on: identity, owner, visibility
 * and state, branches, clone URLs, dates. Its eighty hypermedia URL templates and counters are dropped on
 * decoding like any unknown field, and so is `temp_clone_token`, which is a credential.
 *
 * @since 0.1.0
 * @category models
 */
export class Repository extends Schema.Class<Repository>("Repository")({
  id: Schema.Int,
  node_id: Schema.String,
  name: Schema.String,
  full_name: Schema.String,
  owner: SimpleUser,
  private: Schema.Boolean,
  html_url: Schema.String,
  url: Schema.String,
  description: Schema.optional(Schema.NullOr(Schema.String)),
  fork: Schema.optional(Schema.Boolean),
  visibility: Schema.optional(Schema.String),
  archived: Schema.optional(Schema.Boolean),
  disabled: Schema.optional(Schema.Boolean),
  is_template: Schema.optional(Schema.Boolean),
  default_branch: Schema.optional(Schema.String),
  topics: Schema.optional(Schema.Array(Schema.String)),
  language: Schema.optional(Schema.NullOr(Schema.String)),
  homepage: Schema.optional(Schema.NullOr(Schema.String)),
  license: Schema.optional(Schema.NullOr(License)),
  permissions: Schema.optional(RepositoryPermissions),
  clone_url: Schema.optional(Schema.String),
  ssh_url: Schema.optional(Schema.String),
  git_url: Schema.optional(Schema.String),
  size: Schema.optional(Schema.Number),
  pushed_at: Schema.optional(Schema.NullOr(Schema.Date)),
  created_at: Schema.optional(Schema.NullOr(Schema.Date)),
  updated_at: Schema.optional(Schema.NullOr(Schema.Date)),
  custom_properties: Schema.optional(Schema.Record({ key: Schema.String, value: Schema.Unknown }))
}) {}

/**
 * One page of `GET /installation/repositories`.
 *
 * @since 0.1.0
 * @category models
 */
export class InstallationRepositories extends Schema.Class<InstallationRepositories>("InstallationRepositories")({
  total_count: Schema.Int,
  repositories: Schema.Array(Repository),
  repository_selection: Schema.optional(RepositorySelection)
}) {}
