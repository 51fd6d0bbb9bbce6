#!/usr/bin/env node
/**
 * Runs a GitHub simulator alone on 127.0.0.1 until Ctrl-C: prints its URL, app id and the path of a temporary
 * file holding the app's private key (removed on exit).
 *
 * Flags: `--port N` (default random), `--installations N` (generated, default 3), `--repositories N` (per
 * installation, default 2), `--prefix /api/v3`, `--app-id N`, `--skew-ms N`.
 *
 * @since 0.1.0
 */
import * as NodeRuntime from "@effect/platform-node/NodeRuntime"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { parseArgs } from "node:util"
import * as GithubSimulator from "./GithubSimulator.js"

const { values } = parseArgs({
  options: {
    port: { type: "string" },
    installations: { type: "string" },
    repositories: { type: "string" },
    prefix: { type: "string" },
    "app-id": { type: "string" },
    "skew-ms": { type: "string" }
  }
})

const integer = (name: string, value: string | undefined): number | undefined => {
  if (value === undefined) return undefined
  const parsed = Number(value)
  if (!Number.isInteger(parsed) || parsed < 0) throw new Error(`--${name} must be a non-negative integer, got ${value}`)
  return parsed
}

const program = Effect.gen(function*() {
  const simulator = yield* GithubSimulator.make({
    appId: integer("app-id", values["app-id"]),
    installationCount: integer("installations", values.installations),
    repositoriesPerInstallation: integer("repositories", values.repositories),
    pathPrefix: values.prefix,
    skew: values["skew-ms"] === undefined ? undefined : Number(values["skew-ms"]),
    // A long-running process must not grow with every request.
    recordRequests: false
  })
  const { url } = yield* simulator.serve({ port: integer("port", values.port) })
  const keyFile = yield* Effect.acquireRelease(
    Effect.sync(() => {
      const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "github-simulator-"))
      const file = Path.join(directory, "private-key.pem")
      Fs.writeFileSync(file, Redacted.value(simulator.app.privateKey), { mode: 0o600 })
      return file
    }),
    (file) => Effect.sync(() => Fs.rmSync(Path.dirname(file), { recursive: true, force: true }))
  )
  yield* Console.log(
    [
      `GitHub simulator listening on ${url}`,
      `  GITHUB_API_URL=${url}`,
      `  GITHUB_APP_ID=${simulator.app.id}`,
      `  GITHUB_APP_CLIENT_ID=${simulator.app.clientId}`,
      `  GITHUB_APP_PRIVATE_KEY_FILE=${keyFile}`,
      `  installations: ${simulator.installations.length} (ids 1..${simulator.installations.length})`,
      "Press Ctrl-C to stop."
    ].join("\n")
  )
  return yield* Effect.never
})

NodeRuntime.runMain(Effect.scoped(program))
