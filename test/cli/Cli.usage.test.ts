import { Fault } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { runCli, startSimulator } from "./helpers.js"

describe("github-app installations output", () => {
  it.scopedLive("--json prints nothing when the first page fails", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator({ installationCount: 3 })
      yield* sim.fault("GET /app/installations", Fault.status(500))
      const result = yield* runCli(["installations", "--json", "--retries", "0"], { env })
      assert.strictEqual(result.code, 1)
      assert.strictEqual(result.stdout, "")
      assert.match(result.stderr, /^GitHub server error \(500\)/)
      // the table, too, prints no header for a listing that failed at once
      yield* sim.fault("GET /app/installations", Fault.status(500))
      const table = yield* runCli(["installations", "--retries", "0"], { env })
      assert.strictEqual(table.stdout, "")
    }))

  it.scopedLive("table columns line up across pages, whatever each page holds", () =>
    Effect.gen(function*() {
      const long = "a-rather-long-organization-name-on-page-2"
      const { env } = yield* startSimulator({
        installations: [
          ...Array.from({ length: 30 }, (_, i) => ({ account: `o${i}`, type: "User" as const, repositories: 0 })),
          { account: long.slice(0, 39), repositories: 0 }
        ]
      })
      const result = yield* runCli(["installations"], { env })
      assert.strictEqual(result.code, 0)
      const rows = result.stdout.split("\n").filter((line) => /^(ID|\d+) {2,}/.test(line))
      assert.strictEqual(rows.length, 32) // the header and 31 installations over 2 pages
      const typeColumn = (line: string) => line.search(/\b(TYPE|User|Organization)\b/)
      const repositoriesColumn = (line: string) => line.search(/\b(REPOSITORIES|all)\b/)
      assert.strictEqual(new Set(rows.map(typeColumn)).size, 1, rows.join("\n"))
      assert.strictEqual(new Set(rows.map(repositoriesColumn)).size, 1, rows.join("\n"))
      assert.include(rows.at(-1), long.slice(0, 39))
    }))

  it.scopedLive("the progress line counts one page and one installation in the singular", () =>
    Effect.gen(function*() {
      const { env } = yield* startSimulator({ installations: [{ account: "solo" }] })
      const result = yield* runCli(["installations", "--ndjson"], { env, stderrIsTTY: true })
      assert.strictEqual(result.code, 0)
      assert.include(result.stderrRaw, "1 installation so far (1 page), fetching more…")
      assert.notInclude(result.stderrRaw, "pages")
    }))
})

describe("github-app parse errors", () => {
  it.effect("a bad value among alternatives is one clear line and the usage", () =>
    Effect.gen(function*() {
      const result = yield* runCli(["token", "--installation", "abc"])
      assert.strictEqual(result.code, 2)
      const lines = result.stderr.split("\n")
      assert.deepStrictEqual(lines[0], "--installation expects an integer, got \"abc\".")
      assert.match(lines[1]!, /^Usage: github-app token \(--installation N \| --repo owner\/name/)
      assert.include(lines[1], "github-app token --help")
      assert.strictEqual(lines.length, 2, result.stderr)
      assert.notInclude(result.stderr, "Expected to find option")
      assert.notInclude(result.stderr, "a integer")
    }))

  it.effect("other refusals of the parser: each one line and the usage", () =>
    Effect.gen(function*() {
      const cases: ReadonlyArray<readonly [ReadonlyArray<string>, string]> = [
        [["installation", "--id", "x"], "--id expects an integer, got \"x\"."],
        [["installation", "--repo", "bad"], "--repo expects owner/name, got \"bad\""],
        [["jwt", "--expiration", "soon"], "--expiration expects an integer, got \"soon\"."],
        [["app", "--bogus"], "Unknown option or argument \"--bogus\"."],
        [["token", "--installation", "1", "--permission", "contents"], "--permission expects name=level"],
        [["app", "--timeout", "soon"], "--timeout expects a float, got \"soon\"."]
      ]
      for (const [args, first] of cases) {
        const result = yield* runCli(args)
        assert.strictEqual(result.code, 2, args.join(" "))
        const lines = result.stderr.split("\n")
        assert.strictEqual(lines.length, 2, result.stderr)
        assert.include(lines[0], first)
        assert.match(lines[1]!, new RegExp(`^Usage: github-app ${args[0]}\\b`))
        assert.notInclude(result.stderr, "Expected to find option")
      }
      const unknown = yield* runCli(["frobnicate"])
      assert.strictEqual(unknown.code, 2)
      assert.include(unknown.stderr, "Usage: github-app <command> [options], with a command of jwt, app,")
    }))

  it.scopedLive("--repository owner/name is refused with a hint, before any request", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const result = yield* runCli(["token", "--installation", "1", "--repository", "octo-org/docs"], { env })
      assert.strictEqual(result.code, 2)
      assert.include(result.stderr, "--repository takes a repository name without its owner")
      assert.include(result.stderr, "--repository docs, not octo-org/docs")
      assert.include(result.stderr, "give --repo octo-org/docs")
      assert.strictEqual(yield* sim.count("*"), 0)
      // as suggested, it works
      const named = yield* runCli(["token", "--installation", "1", "--repository", "docs", "--json"], { env })
      assert.strictEqual(named.code, 0, named.stderr)
      assert.deepStrictEqual(JSON.parse(named.stdout).repositories, ["octo-org/docs"])
    }))

  it.effect("help shows every optional flag in brackets", () =>
    Effect.gen(function*() {
      const help = yield* runCli(["token", "--help"])
      assert.strictEqual(help.code, 0)
      const usage = help.stdout.split("\n").find((line) => line.startsWith("$ "))!
      for (
        const flag of [
          "--app-id",
          "--private-key-file",
          "--base-url",
          "--timeout",
          "--retries",
          "--ca-file",
          "--insecure-skip-verify",
          "--permission",
          "--repository",
          "--json"
        ]
      ) {
        // the flag sits inside a [...] group of the usage line
        const at = usage.indexOf(flag)
        assert.isAbove(at, 0, flag)
        assert.isAbove(usage.lastIndexOf("[", at), usage.lastIndexOf("]", at), `${flag} in ${usage}`)
      }
    }))
})
