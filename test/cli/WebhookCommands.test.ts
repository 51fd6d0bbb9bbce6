import { assert, describe, it } from "@effect/vitest"
import { Effect, Fiber } from "effect"
import * as Fs from "node:fs"
import * as Net from "node:net"
import * as Os from "node:os"
import * as Path from "node:path"
import { runCli, startSimulator } from "./helpers.js"

const freePort = Effect.promise(() =>
  new Promise<number>((resolve) => {
    const server = Net.createServer()
    server.listen(0, "127.0.0.1", () => {
      const port = (server.address() as Net.AddressInfo).port
      server.close(() => resolve(port))
    })
  })
)

const issue = {
  action: "opened",
  issue: { id: 1, number: 12, title: "Hello" },
  repository: { id: 7, name: "api", full_name: "octo-org/api", owner: { login: "octo-org", id: 1001 } },
  sender: { login: "octocat", id: 1 },
  installation: { id: 1 }
}

describe("github-app webhooks / deliveries", () => {
  it.scopedLive("webhooks listen verifies deliveries and prints one line each (--json)", () =>
    Effect.gen(function*() {
      const { sim } = yield* startSimulator()
      const dir = Fs.mkdtempSync(Path.join(Os.tmpdir(), "github-app-webhooks-"))
      const secretFile = Path.join(dir, "secret")
      Fs.writeFileSync(secretFile, "listen secret\n")
      const port = yield* freePort
      const fiber = yield* Effect.fork(
        runCli(["webhooks", "listen", "--port", String(port), "--secret-file", secretFile, "--count", "2", "--json"])
      )
      yield* sim.setWebhook({ url: `http://127.0.0.1:${port}/`, secret: "listen secret" })
      // Until the server is up the simulator's deliveries fail to connect (status 0).
      let first = yield* sim.deliver("issues", issue)
      while (first.statusCode === 0) {
        yield* Effect.sleep("20 millis")
        first = yield* sim.deliver("issues", issue)
      }
      assert.strictEqual(first.statusCode, 202)
      yield* sim.setWebhook({ secret: "wrong" })
      assert.strictEqual((yield* sim.deliver("issues", issue)).statusCode, 401)
      yield* sim.setWebhook({ secret: "listen secret" })
      assert.strictEqual(
        (yield* sim.deliver("ping", { zen: "Approachable is better than simple.", hook_id: 3 })).statusCode,
        202
      )
      const result = yield* Fiber.join(fiber)
      assert.strictEqual(result.code, 0, result.stderr)
      const lines = result.stdout.split("\n").map((line) => JSON.parse(line))
      assert.deepStrictEqual(lines.map((line) => [line.event, line.action, line.repository, line.known]), [
        ["issues", "opened", "octo-org/api", true],
        ["ping", null, null, true]
      ])
      assert.strictEqual(lines[0].deliveryId, first.guid)
      assert.include(result.stderr, `Listening for webhook deliveries on http://127.0.0.1:${port}/`)
      assert.notInclude(result.stdout + result.stderr, "listen secret")
    }))

  it.scopedLive("deliveries list, and redeliver --failed --since 1h asks again for the failed ones", () =>
    Effect.gen(function*() {
      const { env, sim } = yield* startSimulator()
      const port = yield* freePort
      // Nothing listens there: every delivery fails to connect.
      yield* sim.setWebhook({ url: `http://127.0.0.1:${port}/`, secret: "s" })
      yield* sim.deliver("issues", issue)
      yield* sim.deliver("ping", { zen: "Mind your words, they are important.", hook_id: 3 })
      const listed = yield* runCli(["deliveries", "list"], { env })
      assert.strictEqual(listed.code, 0, listed.stderr)
      const rows = listed.stdout.split("\n")
      assert.strictEqual(rows.length, 2)
      assert.match(rows[0]!, /^2 {2}[0-9a-f-]{36} {2}\S+ {2}ping {2}0 {2}failed to connect to host$/)
      assert.match(rows[1]!, /^1 {2}[0-9a-f-]{36} {2}\S+ {2}issues\.opened {2}0 {2}failed to connect to host$/)
      const redelivered = yield* runCli(["deliveries", "redeliver", "--failed", "--since", "1h"], { env })
      assert.strictEqual(redelivered.code, 0, redelivered.stderr)
      assert.include(redelivered.stderr, "Asked GitHub to redeliver 2 failed of 2 deliveries since 1h.")
      assert.strictEqual(yield* sim.count("POST /app/hook/deliveries/{delivery_id}/attempts"), 2)
      const usage = yield* runCli(["deliveries", "redeliver"], { env })
      assert.strictEqual(usage.code, 2)
    }))
})
