/**
 * Generates packages/webhooks/src/WebhookSchemas.ts from GitHub's webhook OpenAPI description
 * (@octokit/openapi-webhooks, pinned in the root package.json). `--check` regenerates in memory and fails when
 * the committed module differs.
 *
 * One schema per event (its actions' payloads merged), sub-schemas shared by component and by structure. Only
 * what identifies a delivery is required (action, sender, repository and installation identity, ids, numbers,
 * logins, full names); every other field decodes as absent when missing and accepts null, because GitHub
 * Enterprise Server and older deliveries lack fields the spec has since marked required.
 */
import * as Fs from "node:fs"
import { createRequire } from "node:module"
import * as Path from "node:path"
import { fileURLToPath } from "node:url"

type Json = any

const root = Path.resolve(Path.dirname(fileURLToPath(import.meta.url)), "..")
const out = Path.join(root, "packages/webhooks/src/WebhookSchemas.ts")
const require = createRequire(import.meta.url)
const specPath = require.resolve("@octokit/openapi-webhooks/generated/api.github.com.json")
const specVersion: string = JSON.parse(
  Fs.readFileSync(Path.join(Path.dirname(specPath), "..", "package.json"), "utf8")
).version
const spec: Json = JSON.parse(Fs.readFileSync(specPath, "utf8"))
const components: Record<string, Json> = spec.components.schemas

/** Keys kept required wherever the spec requires them: what identifies an object. */
const IDENTITY = new Set(["id", "login", "full_name"])
/** In the event's subject (`issue` of issues) its `number` too: handlers address issues and pulls by it. */
const SUBJECT_IDENTITY = new Set(["id", "number", "login", "full_name"])
/**
 * Events GitHub really sends without a `sender` though the spec requires one (its own automation reopens code
 * scanning alerts and reports secret locations): `sender` is optional there.
 */
const NO_SENDER = new Set(["code_scanning_alert", "secret_scanning_alert_location"])
/** Top-level fields kept required when every action of the event requires them. */
const TOP_IDENTITY = new Set(["action", "sender", "repository"])

const consts: Array<string> = []
const byCode = new Map<string, string>()
const byRef = new Map<string, string>()
/** Set while the event's subject object is generated: its own keys keep `number`. */
let subject = false
const inProgress = new Set<string>()
let counter = 0

const share = (code: string): string => {
  if (code.length < 40) return code
  const known = byCode.get(code)
  if (known !== undefined) return known
  const name = `S${counter++}`
  consts.push(`const ${name} = ${code}`)
  byCode.set(code, name)
  return name
}

const resolve = (schema: Json): Json => {
  let current = schema
  while (current && current.$ref) current = components[current.$ref.split("/").pop()]
  return current ?? {}
}

const isNullSchema = (schema: Json): boolean => {
  const s = resolve(schema)
  return s.type === "null" || (Array.isArray(s.enum) && s.enum.length === 1 && s.enum[0] === null)
}

const union = (codes: Array<string>): string => {
  const unique = Array.from(new Set(codes))
  if (unique.includes("U")) return "U"
  return unique.length === 1 ? unique[0]! : `Schema.Union(${unique.join(", ")})`
}

const optional = (code: string): string => code.startsWith("N(") ? `O(${code.slice(2, -1)})` : `O(${code})`

const nullable = (code: string): string => code === "U" || code.startsWith("N(") ? code : `N(${code})`

const objectCode = (properties: Record<string, Json>, required: ReadonlySet<string>, keep: ReadonlySet<string>) => {
  const fields: Array<string> = []
  const keepName = required.has("full_name") && keep.has("full_name")
  for (const key of Object.keys(properties).sort()) {
    const code = schemaCode(properties[key])
    const kept = required.has(key) && (keep.has(key) || (keepName && key === "name"))
    fields.push(`${JSON.stringify(key)}: ${kept ? code : optional(code)}`)
  }
  return fields.length === 0 ? "Obj" : share(`Schema.Struct({ ${fields.join(", ")} })`)
}

const mergeAllOf = (members: Array<Json>): Json => {
  const properties: Record<string, Json> = {}
  const required = new Set<string>()
  for (const member of members.map(resolve)) {
    const m = member.allOf ? mergeAllOf(member.allOf) : member
    Object.assign(properties, m.properties ?? {})
    for (const key of m.required ?? []) required.add(key)
  }
  return { type: "object", properties, required: Array.from(required) }
}

function schemaCode(schema: Json): string {
  if (schema === undefined || schema === true) return "U"
  if (schema.$ref) {
    const ref: string = schema.$ref.split("/").pop()
    const cacheKey = subject ? `${ref}#subject` : ref
    const known = byRef.get(cacheKey)
    if (known !== undefined) return known
    // A cycle is cut at its back edge: that field decodes as unknown.
    if (inProgress.has(ref)) return "U"
    inProgress.add(ref)
    const code = schemaCode(components[ref])
    inProgress.delete(ref)
    byRef.set(cacheKey, code)
    return code
  }
  if (schema.allOf) return schemaCode(mergeAllOf(schema.allOf))
  const alternatives = schema.oneOf ?? schema.anyOf
  if (alternatives) {
    const members = alternatives as Array<Json>
    const hasNull = members.some(isNullSchema) || schema.nullable === true
    const codes = members.filter((member) => !isNullSchema(member)).map(schemaCode)
    const code = codes.length === 0 ? "U" : union(codes)
    return hasNull ? nullable(code) : code
  }
  const types: Array<string> = Array.isArray(schema.type) ? schema.type : schema.type ? [schema.type] : []
  const hasNull = schema.nullable === true || types.includes("null")
  const concrete = types.filter((type) => type !== "null")
  let code: string
  if (concrete.length === 0 && schema.properties) code = objectOf(schema)
  else if (concrete.length === 0) code = "U"
  else code = union(concrete.map((type) => typeCode(type, schema)))
  return hasNull ? nullable(code) : code
}

function objectOf(schema: Json): string {
  if (schema.properties && Object.keys(schema.properties).length > 0) {
    const keep = subject ? SUBJECT_IDENTITY : IDENTITY
    subject = false
    return objectCode(schema.properties, new Set(schema.required ?? []), keep)
  }
  return "Obj"
}

function typeCode(type: string, schema: Json): string {
  switch (type) {
    case "string":
      // Real deliveries carry some timestamps as epoch seconds (installation.created_at, push's repository).
      if (schema.format === "date-time") return "Time"
      // Enums decode as strings: GitHub adds values (states, reasons) before the spec names them.
      return "Str"
    case "integer":
    case "number":
      return "Num"
    case "boolean":
      return "Bool"
    case "array":
      return share(`Schema.Array(${schemaCode(schema.items)})`)
    case "object":
      return objectOf(schema)
    default:
      return "U"
  }
}

// --- events ---------------------------------------------------------------------------------------------

interface EventInfo {
  readonly name: string
  readonly variants: Array<Json>
}

const events = new Map<string, EventInfo>()
for (const hook of Object.values<Json>(spec.webhooks)) {
  const operation = hook.post
  const name = String(operation.operationId).split("/")[0]!.replace(/-/g, "_")
  const payload = resolve(operation.requestBody.content["application/json"].schema)
  const variants = (payload.oneOf ?? payload.anyOf ?? [payload]).map(resolve).map((variant: Json) =>
    variant.allOf ? mergeAllOf(variant.allOf) : variant
  )
  const info = events.get(name) ?? { name, variants: [] }
  info.variants.push(...variants)
  events.set(name, info)
}

const pascal = (name: string) => name.split("_").map((part) => part[0]!.toUpperCase() + part.slice(1)).join("")

const eventLines: Array<string> = []
const entries: Array<string> = []
const payloadTypes: Array<string> = []
const actionTypes: Array<string> = []
for (const info of Array.from(events.values()).sort((a, b) => a.name.localeCompare(b.name))) {
  const actions = new Set<string>()
  let freeAction = false
  const properties = new Map<string, Array<Json>>()
  const requiredCount = new Map<string, number>()
  for (const variant of info.variants) {
    const action = variant.properties?.action
    if (action?.enum) for (const value of action.enum) actions.add(value)
    else if (action) freeAction = true
    for (const [key, value] of Object.entries<Json>(variant.properties ?? {})) {
      if (key === "action") continue
      const list = properties.get(key) ?? []
      list.push(value)
      properties.set(key, list)
    }
    for (const key of variant.required ?? []) requiredCount.set(key, (requiredCount.get(key) ?? 0) + 1)
  }
  // An action that is free text (repository_dispatch's event_type) does not make actions known.
  const actionList = freeAction ? [] : Array.from(actions).sort()
  const fields: Array<string> = []
  if (actionList.length > 0) {
    fields.push(`"action": Schema.Literal(${actionList.map((action) => JSON.stringify(action)).join(", ")})`)
  } else if (freeAction) {
    fields.push(`"action": O(Str)`)
  }
  for (const key of Array.from(properties.keys()).sort()) {
    // The event's subject (`pull_request` of pull_request, `issue` of issues) is what its handlers read.
    const isSubject = key === info.name || `${key}s` === info.name
    const code = union(properties.get(key)!.map((schema) => {
      subject = isSubject
      const code = schemaCode(schema)
      subject = false
      return code
    }))
    const identity = (TOP_IDENTITY.has(key) && !(key === "sender" && NO_SENDER.has(info.name))) || isSubject
    const required = identity && requiredCount.get(key) === info.variants.length
    fields.push(`${JSON.stringify(key)}: ${required ? code : optional(code)}`)
  }
  if (!properties.has("installation")) fields.push(`"installation": O(Installation)`)
  const constName = `E${pascal(info.name)}`
  eventLines.push(`const ${constName} = Schema.Struct({ ${fields.join(", ")} })`)
  entries.push(
    `  ${info.name}: { actions: [${actionList.map((action) => JSON.stringify(action)).join(", ")}], schema: ${constName} }`
  )
  payloadTypes.push(`  readonly ${info.name}: typeof ${constName}.Type`)
  actionTypes.push(
    `  readonly ${info.name}: ${
      actionList.length === 0 ? "never" : actionList.map((action) => JSON.stringify(action)).join(" | ")
    }`
  )
}

const header = `/**
 * Effect Schemas of every webhook event a GitHub App can receive, one per event with its actions' payloads
 * merged. Generated by \`pnpm generate:webhooks\` from @octokit/openapi-webhooks ${specVersion}: do not edit.
 *
 * Required: \`action\` (one of the event's known actions), \`sender\`, \`repository\` and the event's subject
 * (\`pull_request\`, \`issue\`, ...) where every action has them, and inside any object the spec's required
 * \`id\`, \`number\`, \`login\` and \`full_name\` (and \`name\` beside \`full_name\`). Everything else is
 * optional and accepts null.
 *
 * @since 0.1.0
 */
/* eslint-disable */
import * as Schema from "effect/Schema"

const U = Schema.Unknown
const Str = Schema.String
const Num = Schema.Number
const Bool = Schema.Boolean
const Time = Schema.Union(Schema.String, Schema.Number)
const Obj = Schema.Record({ key: Schema.String, value: Schema.Unknown })
const N = <S extends Schema.Schema.Any>(schema: S) => Schema.NullOr(schema)
const O = <S extends Schema.Schema.Any>(schema: S) => Schema.optional(Schema.NullOr(schema))
const Installation = Schema.Struct({ id: Num, node_id: O(Str) })
`

const text = [
  header,
  ...consts,
  "",
  ...eventLines,
  "",
  "/**",
  " * The payload type of each event.",
  " *",
  " * @since 0.1.0",
  " * @category models",
  " */",
  "export interface Payloads {",
  ...payloadTypes,
  "}",
  "",
  "/**",
  " * The known actions of each event (`never` for events without actions).",
  " *",
  " * @since 0.1.0",
  " * @category models",
  " */",
  "export interface Actions {",
  ...actionTypes,
  "}",
  "",
  "/**",
  " * Each event's known actions and its schema.",
  " *",
  " * @since 0.1.0",
  " * @category schemas",
  " */",
  "export const events: {",
  "  readonly [E in keyof Payloads]: { readonly actions: ReadonlyArray<string>; readonly schema: Schema.Schema<Payloads[E], any> }",
  "} = {",
  entries.join(",\n"),
  "}",
  "",
  "/**",
  " * The @octokit/openapi-webhooks version the schemas were generated from.",
  " *",
  " * @since 0.1.0",
  " * @category constants",
  " */",
  `export const specVersion = ${JSON.stringify(specVersion)}`,
  ""
].join("\n")

if (process.argv.includes("--check")) {
  const committed = Fs.existsSync(out) ? Fs.readFileSync(out, "utf8") : ""
  if (committed !== text) {
    console.error(`${Path.relative(root, out)} is not what \`pnpm generate:webhooks\` makes: regenerate and commit it.`)
    process.exit(1)
  }
  console.log(`${Path.relative(root, out)} is up to date (${events.size} events, ${text.length} bytes)`)
} else {
  Fs.writeFileSync(out, text)
  console.log(`wrote ${Path.relative(root, out)}: ${events.size} events, ${consts.length} shared schemas, ${text.length} bytes`)
}
