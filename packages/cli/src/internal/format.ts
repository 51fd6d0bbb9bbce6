/**
 * Plain-text rendering for the terminal: aligned tables and key/value blocks, masked secrets, wire JSON.
 */
import * as Account from "@effect-github/app/Account"
import { GithubApp } from "@effect-github/app/GithubApp"
import { Installation } from "@effect-github/app/Installation"
import type { InstallationAuthorization } from "@effect-github/app/InstallationAuthorization"
import * as Redacted from "effect/Redacted"
import * as Schema from "effect/Schema"

/** The first characters of a secret, enough to tell two apart (`ghs_abcd…`), never enough to use it. */
export const mask = (secret: Redacted.Redacted<string> | string, visible = 8): string => {
  const value = Redacted.isRedacted(secret) ? Redacted.value(secret) : secret
  return `${value.slice(0, Math.min(visible, Math.floor(value.length / 4)))}…`
}

/** Rows under headers, every column as wide as its widest cell. */
export const table = (
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>
): Array<string> => {
  const sizes = widths([headers, ...rows])
  return [row(sizes, headers), ...rows.map((cells) => row(sizes, cells))]
}

/** `label  value` lines with the values aligned. */
export const keyValues = (pairs: ReadonlyArray<readonly [string, string]>, indent = ""): Array<string> => {
  const width = Math.max(...pairs.map(([label]) => label.length))
  return pairs.map(([label, value]) => `${indent}${label.padEnd(width)}  ${value}`)
}

export const permissions = (record: Readonly<Record<string, string>> | undefined): string => {
  const entries = Object.entries(record ?? {}).sort(([a], [b]) => a < b ? -1 : a > b ? 1 : 0)
  return entries.length === 0 ? "(none)" : entries.map(([name, level]) => `${name}=${level}`).join(", ")
}

const accountName = (installation: Installation): string =>
  installation.account === null ? "(none)" : Account.name(installation.account)

export const appLines = (app: GithubApp): Array<string> =>
  keyValues([
    ["Name", app.name],
    ["Slug", app.slug ?? "(none)"],
    ["App ID", String(app.id)],
    ["Client ID", app.client_id ?? "(none)"],
    ["Owner", `${Account.name(app.owner)}`],
    ["Description", app.description ?? ""],
    ["URL", app.html_url],
    ["Created", app.created_at.toISOString()],
    ["Permissions", permissions(app.permissions)],
    ["Events", app.events.length === 0 ? "(none)" : app.events.join(", ")],
    ...(app.installations_count === undefined
      ? []
      : [["Installations", String(app.installations_count)] as const])
  ])

export const installationLines = (installation: Installation): Array<string> =>
  keyValues([
    ["Installation", String(installation.id)],
    ["Account", `${accountName(installation)} (${installation.target_type})`],
    ["Repositories", installation.repository_selection],
    ["Permissions", permissions(installation.permissions)],
    ["Events", installation.events.length === 0 ? "(none)" : installation.events.join(", ")],
    ["Created", installation.created_at.toISOString()],
    ["Status", installation.suspended_at === null ? "active" : `suspended ${installation.suspended_at.toISOString()}`],
    ["URL", installation.html_url]
  ])

export const installationHeaders = ["ID", "ACCOUNT", "TYPE", "REPOSITORIES", "STATUS"] as const

/**
 * Installations are printed page by page, so their columns cannot be sized on the data: ids up to 10 digits,
 * GitHub's longest login (39), `Organization`, `REPOSITORIES`; a longer enterprise slug pushes only its own row.
 */
export const installationWidths: ReadonlyArray<number> = [10, 39, 12, 12, 0]

export const installationCells = (installation: Installation): Array<string> => [
  String(installation.id),
  accountName(installation),
  installation.target_type,
  installation.repository_selection,
  installation.suspended_at === null ? "active" : "suspended"
]

/** Column widths fitting these rows. */
export const widths = (rows: ReadonlyArray<ReadonlyArray<string>>): Array<number> =>
  rows.reduce<Array<number>>(
    (acc, row) => row.map((cell, i) => Math.max(acc[i] ?? 0, cell.length)),
    []
  )

export const row = (widths: ReadonlyArray<number>, cells: ReadonlyArray<string>): string =>
  cells.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join("  ").trimEnd()

/** GitHub's wire JSON of the models, as decoded (unknown fields were dropped). */
export const appJson = (app: GithubApp): unknown => Schema.encodeSync(GithubApp)(app)

export const installationJson = (installation: Installation): unknown => Schema.encodeSync(Installation)(installation)

/**
 * The one JSON that holds a secret, printed only where the user asked for the token: GitHub's field names, and
 * `repositories` as full names (`null` when the token covers every repository of the installation).
 */
export const tokenJson = (authorization: InstallationAuthorization): Record<string, unknown> => ({
  token: Redacted.value(authorization.token),
  expires_at: authorization.expires_at.toISOString(),
  permissions: authorization.permissions ?? {},
  repository_selection: authorization.repository_selection ?? null,
  repositories: authorization.repositories?.map((repository) => repository.full_name) ?? null
})

/** `in 59 min`, `in 45 s`, `2 min ago`. */
export const relative = (at: Date, now: number): string => {
  const seconds = Math.round((at.getTime() - now) / 1000)
  const magnitude = Math.abs(seconds)
  const text = magnitude < 120 ? `${magnitude} s` : `${Math.round(magnitude / 60)} min`
  return seconds >= 0 ? `in ${text}` : `${text} ago`
}
