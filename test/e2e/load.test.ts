/**
 * Issue 9, section 5: load. 5,000 mixed operations at concurrency 64 through one client against the loopback
 * simulator, no spacing, no errors, and memory flat: the heap after a full GC once the first thousand are done,
 * against the heap after the last thousand.
 */
import { Integration } from "@effect-github/app"
import { NodeHttpTransport } from "@effect-github/node"
import { GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Stream from "effect/Stream"
import * as v8 from "node:v8"
import * as vm from "node:vm"
import { table } from "./harness.js"
import { world } from "./workload.js"

// E2E_LOAD_OPERATIONS=20000 for a longer soak of the same mix
const OPERATIONS = Number(process.env.E2E_LOAD_OPERATIONS ?? 5_000)
const BATCH = 1_000
const CONCURRENCY = 64
/** Allowed heap growth from the first thousand operations to the last, after a full GC each time. */
const TOLERANCE = 4 * 1024 * 1024

// A full GC on demand: vitest's workers do not pass --expose-gc, so it is enabled at run time.
const collectGarbage = (): () => void => {
  const exposed = (globalThis as { gc?: () => void }).gc
  if (exposed !== undefined) return exposed
  v8.setFlagsFromString("--expose-gc")
  return vm.runInNewContext("gc") as () => void
}

const heapAfterGc = (gc: () => void): number => {
  // twice: the first pass may only schedule finalization of what the second frees
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

describe("e2e: load", () => {
  it.scopedLive(`${OPERATIONS} mixed operations at concurrency ${CONCURRENCY}: no errors, memory flat`, () =>
    Effect.gen(function*() {
      const gc = collectGarbage()
      const sim = yield* GithubSimulator.make({
        ...world,
        rateLimit: { app: 1e9, installation: 1e9 },
        recordRequests: false
      })
      const { url } = yield* sim.server
      const context = yield* Layer.build(
        Integration.layerApp({
          appId: sim.app.id,
          privateKey: sim.app.privateKey,
          baseUrl: url,
          secondsBetweenRequests: 0,
          secondsBetweenWrites: 0,
          // more than GitHub allows one identity (900 points a minute): the simulator here enforces no secondary
          // limits, and this test is about other things
          pointsPerMinute: 0,
          contentCreatingPerMinute: 0,
          contentCreatingPerHour: 0
        }).pipe(Layer.provide(NodeHttpTransport.layer({ poolSize: CONCURRENCY })))
      )
      const github = Context.get(context, Integration.Integration)
      const installations = sim.installations.filter((i) => i.suspendedAt === undefined)
      const organizations = installations.filter((i) => i.account.type === "Organization")
      const withRepositories = installations.filter((i) => i.repositories.length > 0)

      // Each operation is checked; a wrong answer counts as an error.
      const operation = (i: number): Effect.Effect<boolean, unknown> => {
        const slot = i % 20
        const target = withRepositories[i % withRepositories.length]!
        if (slot < 6) return Effect.map(github.getApp(), (app) => app.id === sim.app.id)
        if (slot < 9) {
          const org = organizations[i % organizations.length]!
          return Effect.map(github.getOrgInstallation(org.account.login), (found) => found.id === org.id)
        }
        if (slot < 10) {
          const repository = target.repositories[i % target.repositories.length]!
          return Effect.map(
            github.getRepoInstallation(target.account.login, repository.name),
            (found) => found.id === target.id
          )
        }
        if (slot < 13) {
          return Effect.flatMap(
            github.getAppInstallation(target.id),
            (ref) => Effect.map(ref.get, (found) => found.id === target.id)
          )
        }
        if (slot < 16) {
          return Effect.flatMap(github.installation(target.id), (ref) =>
            Effect.map(
              ref.requester().requestJson({ method: "GET", path: "/installation/repositories" }),
              (reply) => (reply.body as { total_count: number }).total_count === target.repositories.length
            ))
        }
        if (slot < 18) {
          // a handful of scopes per installation: mostly cache hits, some mints
          const scope = i % 3 === 0
            ? undefined
            : { repositories: [target.repositories[i % target.repositories.length]!.name] }
          return Effect.map(github.getAccessToken(target.id, scope), (token) => token.expires_at.getTime() > Date.now())
        }
        if (slot < 19) {
          return Effect.map(
            Stream.runCount(github.getInstallations({ perPage: 100 })),
            (count) => count === sim.installations.length
          )
        }
        return Effect.flatMap(github.installation(target.id), (ref) =>
          Effect.map(
            Stream.runCount(ref.repositories()),
            (count) => count === target.repositories.length
          ))
      }

      const latencies = new Float64Array(OPERATIONS)
      let errors = 0
      let wrong = 0
      const heaps: Array<number> = []
      const started = performance.now()
      for (let batch = 0; batch < OPERATIONS / BATCH; batch++) {
        yield* Effect.forEach(
          Array.from({ length: BATCH }, (_, k) => batch * BATCH + k),
          (i) =>
            Effect.suspend(() => {
              const t0 = performance.now()
              return operation(i).pipe(
                Effect.match({
                  onFailure: (error) => {
                    if (errors++ < 3) console.log(`operation ${i}: ${String(error)}`)
                  },
                  onSuccess: (ok) => {
                    if (!ok) wrong++
                  }
                }),
                Effect.ensuring(Effect.sync(() => {
                  latencies[i] = performance.now() - t0
                }))
              )
            }),
          { concurrency: CONCURRENCY, discard: true }
        )
        heaps.push(heapAfterGc(gc))
      }
      const elapsed = performance.now() - started
      const requests = yield* sim.count("*")
      const sorted = Array.from(latencies).sort((a, b) => a - b)
      const mib = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(2)} MiB`
      const growth = heaps[heaps.length - 1]! - heaps[0]!
      table(`Load: ${OPERATIONS} mixed operations, concurrency ${CONCURRENCY}, one client, loopback simulator`, [{
        operations: OPERATIONS,
        "HTTP requests": requests,
        errors,
        "wrong results": wrong,
        time: `${Math.round(elapsed)} ms`,
        "requests/s": Math.round(requests / (elapsed / 1000)),
        "p50 op": `${sorted[Math.floor(OPERATIONS * 0.5)]!.toFixed(1)} ms`,
        "p99 op": `${sorted[Math.floor(OPERATIONS * 0.99)]!.toFixed(1)} ms`
      }])
      table("Heap used after a full GC, per thousand operations (simulator in the same process)", [
        Object.fromEntries([
          ...heaps.map((heap, k) => [`after ${(k + 1) * BATCH}`, mib(heap)]),
          ["growth 1k → 5k", mib(growth)],
          ["per operation", `${Math.round(growth / (OPERATIONS - BATCH))} B`],
          ["tolerance", mib(TOLERANCE)]
        ])
      ])
      assert.strictEqual(errors, 0)
      assert.strictEqual(wrong, 0)
      assert.isBelow(growth, TOLERANCE)
    }))
})
