import { Fault } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Redacted } from "effect"
import { importSPKI, jwtVerify } from "jose"
import * as Fs from "node:fs"
import * as Os from "node:os"
import * as Path from "node:path"
import { assertNoKey, runCli, startSimulator } from "./helpers.js"

const mintRoute = "POST /app/installations/{installation_id}/access_tokens"

describe("github-app jwt", () => {
  it.scopedLive("prints a JWT the app's public key verifies, and its expiry on stderr", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const result = yield* runCli(["jwt", "--expiration", "120"], { env })
      assert.strictEqual(result.code, 0)
      const jwt = result.stdout
      assert.match(jwt, /^[\w-]+\.[\w-]+\.[\w-]+$/)
      const { payload } = yield* Effect.promise(async () =>
        jwtVerify(jwt, await importSPKI(sim.app.publicKey, "RS256"), { algorithms: ["RS256"] })
      )
      assert.strictEqual(payload.iss, String(sim.app.id))
      assert.strictEqual(payload.exp! - payload.iat!, 180) // 120 s, plus the 60 s back-dated iat
      assert.match(result.stderr, /^App JWT, expires .* \(in 120 s\)$/)
      assert.notInclude(result.stderr, jwt)
      assertNoKey(result, sim.app.privateKey)
    }))

  it.scopedLive("signs on GitHub's clock: with GitHub 20 minutes ahead, the JWT is valid at GitHub's now", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator({ skew: "20 minutes" })
      const result = yield* runCli(["jwt"], { env })
      assert.strictEqual(result.code, 0)
      // checked at GitHub's clock (20 minutes after ours): a JWT signed on the local clock expired 15 minutes ago
      yield* Effect.promise(async () =>
        jwtVerify(result.stdout, await importSPKI(sim.app.publicKey, "RS256"), {
          algorithms: ["RS256"],
          currentDate: new Date(Date.now() + 20 * 60_000)
        })
      )
    }))

  it.scopedLive("defaults to 300 s, as the library, and refuses more than 600 (exit 2)", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator()
      const ok = yield* runCli(["jwt"], { env })
      assert.strictEqual(ok.code, 0)
      const claims = JSON.parse(Buffer.from(ok.stdout.split(".")[1]!, "base64url").toString())
      assert.strictEqual(claims.exp - claims.iat, 360)
      const tooLong = yield* runCli(["jwt", "--expiration", "601"], { env })
      assert.strictEqual(tooLong.code, 2)
      assert.strictEqual(tooLong.stdout, "")
      assert.include(tooLong.stderr, "from 15 to 600 seconds")
    }))

  it.scopedLive("--client-id is accepted as the issuer", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const { GITHUB_APP_ID: _, ...rest } = env
      const result = yield* runCli(["jwt", "--client-id", sim.app.clientId], { env: rest })
      assert.strictEqual(result.code, 0)
      assert.strictEqual(
        JSON.parse(Buffer.from(result.stdout.split(".")[1]!, "base64url").toString()).iss,
        sim.app.clientId
      )
    }))
})

describe("github-app app", () => {
  it.scopedLive("prints the app as a table, or GitHub's JSON with --json", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const table = yield* runCli(["app"], { env })
      assert.strictEqual(table.code, 0)
      assert.match(table.stdout, new RegExp(`^Name +${sim.app.name}$`, "m"))
      assert.match(table.stdout, /^App ID +1$/m)
      assert.match(table.stdout, new RegExp(`^Client ID +${sim.app.clientId}$`, "m"))
      assert.match(table.stdout, /^Permissions +checks=write, contents=read/m)
      assert.match(table.stdout, /^Installations +3$/m)

      const json = yield* runCli(["app", "--json"], { env })
      assert.strictEqual(json.code, 0)
      const app = JSON.parse(json.stdout)
      assert.strictEqual(app.id, sim.app.id)
      assert.strictEqual(app.slug, sim.app.slug)
      assert.strictEqual(app.owner.login, sim.app.owner)
      assert.strictEqual(app.created_at, "2024-01-01T00:00:00.000Z")
      assert.deepStrictEqual(app.permissions.contents, "read")
      assertNoKey(json, sim.app.privateKey)
    }))
})

describe("github-app installations", () => {
  it.scopedLive("streams a table page by page", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator({ installationCount: 32 })
      const result = yield* runCli(["installations"], { env })
      assert.strictEqual(result.code, 0)
      const lines = result.stdout.split("\n")
      assert.match(lines[0]!, /^ID +ACCOUNT +TYPE +REPOSITORIES +STATUS$/)
      assert.match(lines[1]!, /^1 +octo-org +Organization +all +active$/)
      assert.match(lines[3]!, /^3 +octo-enterprise +Enterprise +all +active$/)
      assert.strictEqual(lines.filter((line) => /^\d+ +\S+ +(Organization|User|Enterprise) /.test(line)).length, 35)
      assert.strictEqual(lines.at(-1), "35 installations")
      assert.strictEqual(yield* sim.count("GET /app/installations"), 1) // 100 per page
      const paged = yield* runCli(["installations", "--per-page", "10"], { env })
      assert.strictEqual(paged.stdout, result.stdout)
      assert.strictEqual(yield* sim.count("GET /app/installations"), 5)
      assert.strictEqual(result.stderrRaw, "") // stderr is not a terminal: no progress line
    }))

  it.scopedLive("--ndjson prints one object per line; --json a JSON array; a terminal gets a progress line", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator({ installationCount: 32 })
      const ndjson = yield* runCli(["installations", "--ndjson", "--per-page", "30"], { env, stderrIsTTY: true })
      assert.strictEqual(ndjson.code, 0)
      const objects = ndjson.stdout.split("\n").map((line) => JSON.parse(line))
      assert.deepStrictEqual(objects.map((o) => o.id), Array.from({ length: 35 }, (_, i) => i + 1))
      assert.strictEqual(objects[1].account.login, "octocat")
      assert.strictEqual(objects[1].target_type, "User")
      assert.strictEqual(objects[0].created_at, "2024-01-01T00:00:01.000Z")
      assert.include(ndjson.stderrRaw, "30 installations so far (1 pages), fetching more…")
      assert.isTrue(ndjson.stderrRaw.endsWith("\r\x1b[2K"), "the progress line is cleared at the end")

      const json = yield* runCli(["installations", "--json"], { env })
      assert.strictEqual(json.code, 0)
      assert.deepStrictEqual(JSON.parse(json.stdout), objects)
    }))

  it.scopedLive("no installations; --json with --ndjson is a usage error", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator({ installations: [], installationCount: 0 })
      const empty = yield* runCli(["installations", "--json"], { env })
      assert.strictEqual(empty.code, 0)
      assert.deepStrictEqual(JSON.parse(empty.stdout), [])
      const table = yield* runCli(["installations"], { env })
      assert.strictEqual(table.stdout, "No installations.")
      const both = yield* runCli(["installations", "--json", "--ndjson"], { env })
      assert.strictEqual(both.code, 2)
      assert.include(both.stderr, "--json and --ndjson exclude each other")
    }))
})

describe("github-app installation", () => {
  it.scopedLive("finds an installation by id, organization, repository, user and enterprise", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator()
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, number, string]> = [
        [["--id", "2"], 2, "octocat"],
        [["--org", "octo-org"], 1, "octo-org"],
        [["--repo", "octo-org/docs"], 1, "octo-org"],
        [["--user", "octocat"], 2, "octocat"],
        [["--enterprise", "octo-enterprise"], 3, "octo-enterprise"]
      ]
      for (const [args, id, login] of cases) {
        const json = yield* runCli(["installation", ...args, "--json"], { env })
        assert.strictEqual(json.code, 0, args.join(" "))
        const installation = JSON.parse(json.stdout)
        assert.strictEqual(installation.id, id)
        assert.strictEqual(installation.account.login ?? installation.account.slug, login)
      }
      const table = yield* runCli(["installation", "--org", "octo-org"], { env })
      assert.match(table.stdout, /^Installation +1$/m)
      assert.match(table.stdout, /^Account +octo-org \(Organization\)$/m)
      assert.match(table.stdout, /^Status +active$/m)
    }))

  it.scopedLive("a GitHub error exits 1 with the error's message; bad selectors exit 2", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator()
      const missing = yield* runCli(["installation", "--org", "nobody-here"], { env })
      assert.strictEqual(missing.code, 1)
      assert.strictEqual(missing.stdout, "")
      assert.match(missing.stderr, /^Not found \(404\) \(GET \/orgs\/\{org\}\/installation\)/)

      const none = yield* runCli(["installation"], { env })
      assert.strictEqual(none.code, 2)
      assert.include(none.stderr, "Give one of --id, --org, --repo, --user or --enterprise")
      const two = yield* runCli(["installation", "--id", "1", "--org", "octo-org"], { env })
      assert.strictEqual(two.code, 2)
      assert.include(two.stderr, "Collision")
      const badRepo = yield* runCli(["installation", "--repo", "just-a-name"], { env })
      assert.strictEqual(badRepo.code, 2)
      assert.include(badRepo.stderr, "--repo expects owner/name")
      const badId = yield* runCli(["installation", "--id", "0"], { env })
      assert.strictEqual(badId.code, 2)
      assert.include(badId.stderr, "Invalid installationId")
    }))
})

describe("github-app token", () => {
  it.scopedLive("prints only the token on stdout, the expiry on stderr", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const result = yield* runCli(["token", "--org", "octo-org", "--permission", "contents=read"], { env })
      assert.strictEqual(result.code, 0)
      const [issued] = yield* sim.tokens
      assert.strictEqual(result.stdout, Redacted.value(issued!.token))
      assert.notInclude(result.stdout, "\n")
      assert.deepStrictEqual(issued!.permissions, { contents: "read", metadata: "read" })
      assert.strictEqual(issued!.repositoryIds, undefined)
      assert.match(result.stderr, /^Installation 1 token, expires \S+Z \(in 60 min\); permissions contents=read/)
      assert.notInclude(result.stderr, result.stdout)
      assertNoKey(result, sim.app.privateKey)
    }))

  it.scopedLive("--repo narrows the token to that repository; --json prints its shape", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const result = yield* runCli(
        ["token", "--repo", "octo-org/docs", "--repository", "api", "--permission", "issues=write", "--json"],
        { env }
      )
      assert.strictEqual(result.code, 0)
      const json = JSON.parse(result.stdout)
      assert.deepStrictEqual(Object.keys(json), [
        "token",
        "expires_at",
        "permissions",
        "repository_selection",
        "repositories"
      ])
      const [issued] = yield* sim.tokens
      assert.strictEqual(json.token, Redacted.value(issued!.token))
      assert.strictEqual(json.expires_at, issued!.expiresAt.toISOString())
      assert.deepStrictEqual(json.permissions, { issues: "write", metadata: "read" })
      assert.strictEqual(json.repository_selection, "selected")
      assert.deepStrictEqual([...json.repositories].sort(), ["octo-org/api", "octo-org/docs"])
      assert.strictEqual(issued!.repositoryIds?.length, 2)
      assert.strictEqual(yield* sim.count("GET /repos/{owner}/{repo}/installation"), 1)
    }))

  it.scopedLive("--installation mints without a lookup; every repository when not narrowed", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const result = yield* runCli(["token", "--installation", "2", "--json"], { env })
      assert.strictEqual(result.code, 0)
      const json = JSON.parse(result.stdout)
      assert.strictEqual(json.repository_selection, "all")
      assert.strictEqual(json.repositories, null)
      assert.strictEqual(yield* sim.count("*"), 1)
      assert.strictEqual(yield* sim.count(mintRoute), 1)
    }))

  it.scopedLive("bad levels, names and targets exit 2 before any request; GitHub's refusals exit 1", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const level = yield* runCli(["token", "--installation", "1", "--permission", "contents=reed"], { env })
      assert.strictEqual(level.code, 2)
      assert.include(level.stderr, "the level of contents must be")
      const name = yield* runCli(["token", "--installation", "1", "--repository", "../x"], { env })
      assert.strictEqual(name.code, 2)
      assert.include(name.stderr, "Invalid repositories")
      const none = yield* runCli(["token", "--permission", "contents=read"], { env })
      assert.strictEqual(none.code, 2)
      assert.include(none.stderr, "Give one of --installation, --repo, --org or --user")
      assert.strictEqual(yield* sim.count("*"), 0)

      const unknownRepo = yield* runCli(["token", "--installation", "1", "--repository", "nope"], { env })
      assert.strictEqual(unknownRepo.code, 1)
      assert.match(unknownRepo.stderr, /^Validation failed \(422\)|^Not found \(404\)/)
      assert.strictEqual(unknownRepo.stdout, "")
    }))

  it.scopedLive("survives a 502 and a secondary rate limit, warning on stderr, never on stdout", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      yield* sim.fault(mintRoute, [Fault.status(502), Fault.secondaryRateLimit({ retryAfter: "1 second" })])
      const result = yield* runCli(["token", "--installation", "1"], { env })
      assert.strictEqual(result.code, 0)
      assert.match(result.stdout, /^ghs_\w+$/)
      assert.include(result.stderr, "warn: GitHub POST /app/installations/{installation_id}/access_tokens: ")
      assert.include(result.stderr, "secondary rate limit; attempt 3 in 1 s")
      assert.strictEqual(yield* sim.count(mintRoute), 3)
    }))
})

describe("github-app revoke", () => {
  it.scopedLive("revokes a token from --token or standard input, with no app credentials", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const first = (yield* runCli(["token", "--installation", "1"], { env })).stdout
      const second = (yield* runCli(["token", "--installation", "2"], { env })).stdout
      const onlyUrl = { GITHUB_API_URL: env.GITHUB_API_URL }

      const byFlag = yield* runCli(["revoke", "--token", first], { env: onlyUrl })
      assert.strictEqual(byFlag.code, 0)
      assert.strictEqual(byFlag.stderr, "Token revoked.")
      const byStdin = yield* runCli(["revoke", "--base-url", env.GITHUB_API_URL], { stdin: `${second}\n` })
      assert.strictEqual(byStdin.code, 0)
      const tokens = yield* sim.tokens
      assert.deepStrictEqual(tokens.map((t) => t.revoked), [true, true])
      assert.strictEqual(yield* sim.count("DELETE /installation/token"), 2)
      assert.notInclude(byFlag.stdout + byFlag.stderr + byStdin.stdout + byStdin.stderr, first.slice(4))

      const again = yield* runCli(["revoke"], { env: onlyUrl, stdin: first })
      assert.strictEqual(again.code, 1)
      assert.match(again.stderr, /^Unauthorized \(401\) \(DELETE \/installation\/token\)/)
      assert.notInclude(again.stderr, first.slice(4))
    }))

  it.scopedLive("no token: a terminal on stdin, or empty input, is a usage error", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator()
      const tty = yield* runCli(["revoke"], { env, stdinIsTTY: true })
      assert.strictEqual(tty.code, 2)
      assert.include(tty.stderr, "give --token, or pipe it on standard input")
      const empty = yield* runCli(["revoke"], { env, stdin: "  \n" })
      assert.strictEqual(empty.code, 2)
      const two = yield* runCli(["revoke"], { env, stdin: "ghs_a ghs_b" })
      assert.strictEqual(two.code, 2)
    }))
})

describe("credentials and usage", () => {
  it.scopedLive("flags instead of the environment: --app-id, --private-key-file, --base-url", () =>
    Effect.gen(function*() {
      const { sim, url } = yield* startSimulator()
      const directory = Fs.mkdtempSync(Path.join(Os.tmpdir(), "github-app-cli-"))
      yield* Effect.addFinalizer(() => Effect.sync(() => Fs.rmSync(directory, { recursive: true, force: true })))
      const keyFile = Path.join(directory, "app.pem")
      Fs.writeFileSync(keyFile, Redacted.value(sim.app.privateKey))
      const result = yield* runCli([
        "app",
        "--app-id",
        String(sim.app.id),
        "--private-key-file",
        keyFile,
        "--base-url",
        url,
        "--json"
      ])
      assert.strictEqual(result.code, 0)
      assert.strictEqual(JSON.parse(result.stdout).id, sim.app.id)

      const unreadable = yield* runCli(["app", "--app-id", "1", "--private-key-file", Path.join(directory, "none.pem")])
      assert.strictEqual(unreadable.code, 2)
      assert.include(unreadable.stderr, "could not be read (NotFound)")
    }))

  it.scopedLive("missing or broken credentials exit 2 and say what to set, without echoing secrets", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const nothing = yield* runCli(["app"])
      assert.strictEqual(nothing.code, 2)
      assert.match(nothing.stderr, /^Configuration error: Set GITHUB_APP_ID/)
      assert.include(nothing.stderr, "--private-key-file")

      const noKey = yield* runCli(["token", "--installation", "1"], { env: { GITHUB_APP_ID: "1" } })
      assert.strictEqual(noKey.code, 2)
      assert.include(noKey.stderr, "Set GITHUB_APP_PRIVATE_KEY")

      const garbage = "not-a-key-but-a-secret-all-the-same"
      const badKey = yield* runCli(["app"], { env: { ...env, GITHUB_APP_PRIVATE_KEY: garbage } })
      assert.strictEqual(badKey.code, 2)
      assert.include(badKey.stderr, "The GitHub App private key cannot be used")
      assert.notInclude(badKey.stderr, garbage)

      const wrongApp = yield* runCli(["app"], { env: { ...env, GITHUB_APP_ID: "999" } })
      assert.strictEqual(wrongApp.code, 1)
      assert.match(wrongApp.stderr, /^Unauthorized \(401\)/)
      assertNoKey(wrongApp, sim.app.privateKey)
    }))

  it.scopedLive("bad flags, unknown commands and no command exit 2", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator()
      for (
        const args of [
          ["app", "--app-id", "abc"],
          ["app", "--bogus"],
          ["frobnicate"],
          ["jwt", "--expiration", "soon"],
          ["app", "--app-id", "1", "--client-id", "Iv23abc"],
          []
        ]
      ) {
        const result = yield* runCli(args, { env })
        assert.strictEqual(result.code, 2, args.join(" "))
        assert.strictEqual(result.stdout, "", args.join(" "))
        assert.notStrictEqual(result.stderr, "", args.join(" "))
      }
    }))

  it.effect("--help works for every command, in plain text when stdout is not a terminal", () =>
    Effect.gen(function*() {
      const root = yield* runCli(["--help"])
      assert.strictEqual(root.code, 0)
      assert.notInclude(root.stdout, "\x1b[")
      for (const command of ["jwt", "app", "installations", "installation", "token", "revoke", "demo"]) {
        assert.match(root.stdout, new RegExp(`^  - ${command}\\b`, "m"))
        const help = yield* runCli([command, "--help"])
        assert.strictEqual(help.code, 0, command)
        assert.include(help.stdout, "DESCRIPTION", command)
      }
      const token = yield* runCli(["token", "--help"])
      for (const flag of ["--installation", "--repo", "--org", "--user", "--permission", "--repository", "--json"]) {
        assert.include(token.stdout, flag)
      }
    }))
})
