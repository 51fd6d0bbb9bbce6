import { assert, describe, it } from "@effect/vitest"
import { Effect } from "effect"
import { runCli } from "./helpers.js"

describe("github-app demo", () => {
  it.live("tours the library against the embedded simulator, masking every token", () =>
    Effect.gen(function*() {
      // No credentials at all: the demo brings its own app.
      const result = yield* runCli(["demo"])
      assert.strictEqual(result.code, 0, result.stderr)
      const out = result.stdout
      assert.include(out, "Iv23li00000000000001")
      assert.include(out, "8 installations in 3 pages")
      assert.match(out, /^ {3}8 +user-8 +User +all$/m)
      assert.match(out, /^ {3}org octo-org +GET \/orgs\/\{org\}\/installation +1$/m)
      assert.match(out, /^ {3}repo octo-org\/api +GET \/repos\/\{owner\}\/\{repo\}\/installation +1$/m)
      assert.match(out, /^ {3}user octocat +GET \/users\/\{username\}\/installation +2$/m)
      assert.match(out, /^ {3}token +ghs_\w{4}… \(masked; String\(token\) prints <redacted>\)$/m)
      assert.match(out, /^ {3}permissions +contents=read, metadata=read$/m)
      assert.include(out, "octo-org/api: 1 of the installation's 3 repositories")
      assert.match(out, /the same: true\n {3}the simulator saw 1 POST/)
      // the library's own retry log lines, captured while it waited
      assert.match(
        out,
        /log {2}DEBUG: GitHub GET \/app\/installations\/\{installation_id\}: status 502; attempt 2 in [\d.]+ s/
      )
      assert.match(out, /got installation 2 after [\d.]+ s, 2 requests/)
      assert.include(out, "log  WARN: GitHub GET /orgs/{org}/installation: secondary rate limit; attempt 2 in 1 s")
      const waited = Number(/got installation 1 after ([\d.]+) s, having waited/.exec(out)?.[1])
      assert.isAtLeast(waited, 1)
      assert.match(out, /the simulator marks ghs_\w{4}… revoked: true/)
      assert.include(out, "GithubUnauthorized: Unauthorized (401) (GET /installation/repositories)")
      assert.match(out, /delivery \w{8}… issues\.opened: 202, handler saw octo-org\/api#1 "Found a bug"/)
      assert.include(out, "the same delivery replayed: 200 (a duplicate: the handler ran 1 time)")
      assert.include(out, "signed with another secret: 401 (WebhookSignatureMismatch)")
      assert.match(out, /Done: 15 requests over loopback HTTP in [\d.]+ s\./)
      // masked: no token or JWT longer than its first 8 characters, no key
      assert.notMatch(out, /ghs_\w{5,}/)
      assert.notMatch(out, /eyJ[\w-]{10,}/)
      assert.notInclude(out, "PRIVATE KEY")
      assert.strictEqual(result.stderr, "")
    }))
})
