/**
 * Issue 9, section 4: interruption and resources, over loopback HTTP in real time. Sockets are counted
 * server-side by a TCP proxy in front of the simulator, client-side by undici's pool stats; fibers by a
 * supervisor; the token cache by what a later `get` does.
 */
import { NodeHttpTransport } from "@effect-github/node"
import { Fault, GithubSimulator } from "@effect-github/testing"
import * as NodeHttpClient from "@effect/platform-node/NodeHttpClient"
import { afterAll, assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Layer from "effect/Layer"
import * as Redacted from "effect/Redacted"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as Supervisor from "effect/Supervisor"
import * as net from "node:net"
import { connect, table, Wire } from "./harness.js"
import { world } from "./workload.js"

const MINT = "POST /app/installations/{installation_id}/access_tokens"

interface Proxy {
  readonly port: number
  /** Connections from the client that are still open. */
  readonly open: () => number
  readonly accepted: () => number
}

/** A TCP proxy in front of the simulator's server: counts the client's connections as a server sees them. */
const proxy = (target: number): Effect.Effect<Proxy, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<Proxy & { readonly server: net.Server; readonly sockets: Set<net.Socket> }>((resume) => {
      const sockets = new Set<net.Socket>()
      let accepted = 0
      const server = net.createServer((client) => {
        accepted++
        sockets.add(client)
        const upstream = net.connect(target, "127.0.0.1")
        client.pipe(upstream).pipe(client)
        const close = () => {
          sockets.delete(client)
          client.destroy()
          upstream.destroy()
        }
        for (const socket of [client, upstream]) {
          socket.on("close", close)
          socket.on("error", close)
        }
      })
      server.listen(0, "127.0.0.1", () =>
        resume(Effect.succeed({
          server,
          sockets,
          port: (server.address() as net.AddressInfo).port,
          open: () => sockets.size,
          accepted: () => accepted
        })))
    }),
    ({ server, sockets }) =>
      Effect.async<void>((resume) => {
        for (const socket of sockets) socket.destroy()
        server.close(() => resume(Effect.void))
      })
  )

interface PoolStats {
  readonly connected: number
  readonly free: number
  readonly pending: number
  readonly queued: number
  readonly running: number
}

/** A simulator behind a proxy, and a client in its own scope with an undici pool whose stats we can read. */
const setup = (poolSize = 10) =>
  Effect.gen(function*() {
    const sim = yield* GithubSimulator.make({ ...world, rateLimit: { app: 1e9, installation: 1e9 } })
    const server = yield* sim.server
    const tcp = yield* proxy(server.port)
    const url = `http://127.0.0.1:${tcp.port}`
    const scope = yield* Scope.make()
    const dispatcher = yield* Scope.extend(NodeHttpTransport.makeDispatcher({ poolSize }), scope)
    const layer = NodeHttpClient.layerUndiciWithoutDispatcher.pipe(
      Layer.provide(Layer.succeed(NodeHttpClient.Dispatcher, dispatcher))
    )
    const wire = new Wire()
    const client = yield* Scope.extend(connect(sim, { _tag: "Custom", url, layer }, wire), scope)
    const stats = (): PoolStats => {
      const all = (dispatcher as unknown as { readonly stats: Record<string, PoolStats> }).stats
      const zero = { connected: 0, free: 0, pending: 0, queued: 0, running: 0 }
      return Object.values(all).reduce((a, b) => ({
        connected: a.connected + b.connected,
        free: a.free + b.free,
        pending: a.pending + b.pending,
        queued: a.queued + b.queued,
        running: a.running + b.running
      }), zero)
    }
    const supervisor = yield* Supervisor.track
    const live = Effect.map(supervisor.value, (fibers) => fibers.length)
    return { sim, tcp, scope, client, stats, supervisor, live }
  })

/**
 * Polls (real time) until `check` holds; the time it took (reported, never asserted), or fails after `limit` ms, a
 * bound far above any settling time so that only something that never settles trips it on a loaded machine.
 */
const until = (check: () => boolean | Effect.Effect<boolean>, limit = 30_000) =>
  Effect.gen(function*() {
    const start = performance.now()
    for (;;) {
      const result = check()
      if (typeof result === "boolean" ? result : yield* result) return performance.now() - start
      if (performance.now() - start > limit) return yield* Effect.fail(`not within ${limit} ms`)
      yield* Effect.sleep("5 millis")
    }
  })

const results: Array<Record<string, string | number>> = []
const ms = (millis: number) => `${Math.round(millis)} ms`

type Env = Effect.Effect.Success<ReturnType<typeof setup>>

/** Sockets and fibers once everything interrupted has settled: busy pool slots, sockets the pool forgot. */
const settled = (env: Env) =>
  until(() =>
    Effect.map(env.live, (live) => {
      const stats = env.stats()
      return live === 0 && stats.running + stats.pending + stats.queued === 0 && env.tcp.open() === stats.connected
    })
  )

describe("e2e: interruption and resources", () => {
  afterAll(() =>
    table("Interruption and resources (loopback; sockets counted at a proxy in front of the server)", results)
  )

  it.scopedLive("interrupting 20 in-flight requests closes their sockets and ends every fiber", () =>
    Effect.gen(function*() {
      const env = yield* setup()
      yield* env.sim.fault("GET /app", Fault.delay("5 seconds"), { times: Infinity })
      const fibers = yield* Effect.supervised(
        Effect.forEach(Array.from({ length: 20 }), () => Effect.fork(env.client.github.getApp())),
        env.supervisor
      )
      yield* until(() => Effect.map(env.sim.count("GET /app"), (n) => n >= 10))
      const during = { sockets: env.tcp.open(), ...env.stats() }
      yield* Fiber.interruptAll(fibers)
      const settle = yield* settled(env)
      const after = env.stats()
      results.push({
        scenario: "20 requests (10 on sockets, 10 queued), interrupted",
        "open before": during.sockets,
        "open after": env.tcp.open(),
        "pool busy after": after.running + after.pending + after.queued,
        "live fibers after": yield* env.live,
        settled: ms(settle),
        "later request": "-"
      })
      assert.strictEqual(during.sockets, 10)
      assert.strictEqual(env.tcp.open(), 0, "every aborted exchange's socket is closed")
      yield* Scope.close(env.scope, Exit.void)
    }))

  it.scopedLive("interrupting a pagination stream mid-page aborts the page; taking a prefix fetches no more", () =>
    Effect.gen(function*() {
      const env = yield* setup()
      const page3 = (request: GithubSimulator.RecordedRequest) =>
        request.route === "GET /app/installations" && request.query.page === "3"
      yield* env.sim.fault(page3, Fault.delay("5 seconds"))
      const fiber = yield* Effect.supervised(
        Effect.fork(Stream.runCollect(env.client.github.getInstallations({ perPage: 10 }))),
        env.supervisor
      )
      yield* until(() => Effect.map(env.sim.count("GET /app/installations"), (n) => n >= 3))
      yield* Fiber.interrupt(fiber)
      const settle = yield* settled(env)
      const after = env.stats()
      results.push({
        scenario: "installations stream, interrupted during page 3",
        "open before": "-",
        "open after": `${env.tcp.open()} (idle in pool: ${after.free})`,
        "pool busy after": after.running + after.pending + after.queued,
        "live fibers after": yield* env.live,
        settled: ms(settle),
        "later request": "-"
      })
      // a prefix of the stream: one page is fetched, none after it
      yield* env.sim.resetRequests
      const five = yield* Stream.runCollect(Stream.take(env.client.github.getInstallations({ perPage: 10 }), 5))
      assert.strictEqual(five.length, 5)
      assert.strictEqual(yield* env.sim.count("GET /app/installations"), 1)
      yield* Scope.close(env.scope, Exit.void)
      yield* until(() => env.tcp.open() === 0)
    }))

  it.scopedLive("an interrupted mint leaves no cache entry: a later get mints and succeeds", () =>
    Effect.gen(function*() {
      const env = yield* setup()
      // The mint never answers within the test's time: an interrupt that waited for it would hang the test.
      yield* env.sim.fault(MINT, Fault.delay("1 hour"))
      const fiber = yield* Effect.supervised(Effect.fork(env.client.tokens.get(1)), env.supervisor)
      yield* until(() => Effect.map(env.sim.count(MINT), (n) => n >= 1))
      yield* Fiber.interrupt(fiber)
      const settle = yield* settled(env)
      const openAfter = env.tcp.open()
      const token = yield* env.client.tokens.get(1)
      const mints = yield* env.sim.count(MINT)
      results.push({
        scenario: "a mint, its only caller interrupted",
        "open before": "-",
        "open after": openAfter,
        "pool busy after": 0,
        "live fibers after": 0,
        settled: ms(settle),
        "later request": `get minted again (${mints} POSTs) and got a token`
      })
      assert.strictEqual(mints, 2)
      assert.isTrue(Redacted.value(token.token).startsWith("ghs_"))
      yield* Scope.close(env.scope, Exit.void)
    }))

  it.scopedLive("a shared mint survives the interruption of one of its callers; of all, it is aborted", () =>
    Effect.gen(function*() {
      const env = yield* setup()
      yield* env.sim.fault(MINT, Fault.delay("1 second"), { times: 2 })
      const [a, b] = yield* Effect.supervised(
        Effect.all([Effect.fork(env.client.tokens.get(1)), Effect.fork(env.client.tokens.get(1))]),
        env.supervisor
      )
      yield* until(() => Effect.map(env.sim.count(MINT), (n) => n >= 1))
      yield* Fiber.interrupt(a)
      const other = yield* Fiber.await(b)
      assert.isTrue(Exit.isSuccess(other), `the other caller got ${Exit.isFailure(other) ? "a failure" : ""}`)
      assert.strictEqual(yield* env.sim.count(MINT), 1)

      // now every caller of a mint goes away: the mint's request is aborted, nothing keeps running
      const [c, d] = yield* Effect.supervised(
        Effect.all([Effect.fork(env.client.tokens.get(2)), Effect.fork(env.client.tokens.get(2))]),
        env.supervisor
      )
      yield* until(() => Effect.map(env.sim.count(MINT), (n) => n >= 2))
      yield* Fiber.interruptAll([c, d])
      const settle = yield* settled(env)
      const openAfter = env.tcp.open()
      const token = yield* env.client.tokens.get(2)
      results.push({
        scenario: "a mint shared by 2 callers: 1 interrupted, then both",
        "open before": "-",
        "open after": openAfter,
        "pool busy after": 0,
        "live fibers after": 0,
        settled: ms(settle),
        "later request": `other caller got its token; later get minted (${yield* env.sim.count(MINT)} POSTs)`
      })
      assert.isTrue(Redacted.value(token.token).startsWith("ghs_"))
      yield* Scope.close(env.scope, Exit.void)
    }))

  it.scopedLive("a scoped token's mint can be interrupted; a token it got is revoked when its scope closes", () =>
    Effect.gen(function*() {
      const env = yield* setup()
      // The mint never answers within the test's time: an interrupt that waited for it would hang the test.
      yield* env.sim.fault(MINT, Fault.delay("1 hour"))
      const fiber = yield* Effect.supervised(Effect.fork(Effect.scoped(env.client.tokens.scoped(1))), env.supervisor)
      yield* until(() => Effect.map(env.sim.count(MINT), (n) => n >= 1))
      const start = performance.now()
      yield* Fiber.interrupt(fiber)
      const interrupted = performance.now() - start
      const settle = yield* settled(env)
      const token = yield* Effect.scoped(env.client.tokens.scoped(1))
      const active = yield* env.sim.activeTokens
      results.push({
        scenario: "a scoped token's mint, interrupted",
        "open before": "-",
        "open after": env.tcp.open(),
        "pool busy after": 0,
        "live fibers after": yield* env.live,
        settled: `interrupt ${ms(interrupted)}, then ${ms(settle)}`,
        "later request": `scoped again: revoked at close (${active.length} active tokens)`
      })
      assert.isFalse(active.some((t) => Redacted.value(t.token) === Redacted.value(token.token)))
      yield* Scope.close(env.scope, Exit.void)
    }))

  it.scopedLive("closing the client's scope with 100 requests in flight ends them all without waiting for them", () =>
    Effect.gen(function*() {
      const env = yield* setup()
      // GitHub never answers within the test's time: a close that waited for the requests would hang the test.
      yield* env.sim.fault("GET /app", Fault.delay("1 hour"), { times: Infinity })
      // fibers outside the client's scope (daemons): only the layer's closing can end them
      const fibers = yield* Effect.supervised(
        Effect.forEach(Array.from({ length: 100 }), () => Effect.forkDaemon(env.client.github.getApp())),
        env.supervisor
      )
      yield* until(() => Effect.map(env.sim.count("GET /app"), (n) => n >= 10))
      const open = env.tcp.open()
      const start = performance.now()
      yield* Scope.close(env.scope, Exit.void)
      const closed = performance.now() - start
      const exits = yield* Effect.forEach(fibers, Fiber.await)
      const ended = performance.now() - start
      yield* until(() => env.tcp.open() === 0)
      const tags = new Map<string, number>()
      for (const exit of exits) {
        const tag = Exit.isSuccess(exit)
          ? "success"
          : Exit.isInterrupted(exit)
          ? "interrupted"
          : exit.cause._tag === "Fail"
          ? exit.cause.error._tag
          : "defect"
        tags.set(tag, (tags.get(tag) ?? 0) + 1)
      }
      results.push({
        scenario: "scope closed with 100 requests in flight",
        "open before": open,
        "open after": env.tcp.open(),
        "pool busy after": 0,
        "live fibers after": yield* env.live,
        settled: `close ${ms(closed)}, all ended ${ms(ended)}`,
        "later request": [...tags].map(([tag, n]) => `${tag} ×${n}`).join(", ")
      })
      assert.strictEqual(yield* env.live, 0)
      assert.isFalse(tags.has("defect"))
      assert.isFalse(tags.has("success"))
    }))
})
