/**
 * What an app, installation or token may do: permission names mapped to access levels.
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"

/**
 * `read`, `write`, `admin`, or a level GitHub adds later.
 *
 * @since 0.1.0
 * @category models
 */
export type PermissionLevel = "read" | "write" | "admin" | (string & {})

/**
 * Any string, for forward compatibility (GitHub adds levels and permissions without notice), typed so that the
 * known levels autocomplete. No transformation: decoding stays a type check.
 *
 * @since 0.1.0
 * @category schemas
 */
export const PermissionLevel = Schema.String as Schema.Schema<PermissionLevel, string>

/**
 * The permissions GitHub documents (its "app-permissions" schema). Responses may hold others.
 *
 * @since 0.1.0
 * @category constants
 */
export const knownNames = [
  "actions",
  "administration",
  "artifact_metadata",
  "attestations",
  "checks",
  "code_quality",
  "codespaces",
  "contents",
  "custom_properties_for_organizations",
  "dependabot_secrets",
  "deployments",
  "discussions",
  "email_addresses",
  "enterprise_custom_properties_for_organizations",
  "environments",
  "followers",
  "git_ssh_keys",
  "gpg_keys",
  "interaction_limits",
  "issues",
  "members",
  "merge_queues",
  "metadata",
  "organization_administration",
  "organization_announcement_banners",
  "organization_copilot_agent_settings",
  "organization_copilot_seat_management",
  "organization_custom_org_roles",
  "organization_custom_properties",
  "organization_custom_roles",
  "organization_events",
  "organization_hooks",
  "organization_packages",
  "organization_personal_access_token_requests",
  "organization_personal_access_tokens",
  "organization_plan",
  "organization_projects",
  "organization_secrets",
  "organization_self_hosted_runners",
  "organization_user_blocking",
  "packages",
  "pages",
  "profile",
  "pull_requests",
  "repository_custom_properties",
  "repository_hooks",
  "repository_projects",
  "secret_scanning_alerts",
  "secrets",
  "security_events",
  "single_file",
  "starring",
  "statuses",
  "vulnerability_alerts",
  "workflows"
] as const

/**
 * A permission name: one of `knownNames` (autocompleted) or another string.
 *
 * @since 0.1.0
 * @category models
 */
export type PermissionName = (typeof knownNames)[number] | (string & {})

/**
 * @since 0.1.0
 * @category schemas
 */
export const Permissions = Schema.Record({ key: Schema.String, value: PermissionLevel })

/**
 * @since 0.1.0
 * @category models
 */
export type Permissions = typeof Permissions.Type
