/**
 * The Promise facade over one ManagedRuntime: answers, rejections that are the library's tagged errors (not
 * FiberFailure), async iteration of pages, a cached token answered without a fiber, and dispose.
 */
import { GithubError, InstallationTokens, Integration, IntegrationClient } from "@effect-github/app"
import { GithubSimulator } from "@effect-github/testing"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Layer, Metric, Redacted, Runtime, Scope, Supervisor } from "effect"

const MINT = "POST /app/installations/{installation_id}/access_tokens"

const client = (
  sim: GithubSimulator.Simulator,
  layerOptions: { readonly supervisor?: Supervisor.Supervisor<unknown> } = {}
) =>
  IntegrationClient.make(
    Integration.layerApp({
      appId: sim.app.id,
      privateKey: sim.app.privateKey,
      baseUrl: sim.baseUrl,
      secondsBetweenRequests: 0,
      secondsBetweenWrites: 0
    }).pipe(
      Layer.provide(sim.layer),
      Layer.merge(layerOptions.supervisor ? Supervisor.addSupervisor(layerOptions.supervisor) : Layer.empty)
    )
  )

// the in-process simulator holds nothing open: a scope that is never closed is fine
const simulator = (options: GithubSimulator.Options = {}) =>
  Effect.runPromise(Effect.flatMap(Scope.make(), (scope) => Scope.extend(GithubSimulator.make(options), scope)))

/** Counts every fiber the runtime starts. */
class Started extends Supervisor.AbstractSupervisor<number> {
  count = 0
  get value() {
    return Effect.sync(() => this.count)
  }
  override onStart() {
    this.count++
  }
}

describe("IntegrationClient", () => {
  it("answers with the library's models and pages installations as an async iterable", async () => {
    const sim = await simulator({ installationCount: 45 })
    await using github = client(sim)
    const app = await github.getApp()
    assert.strictEqual(app.id, sim.app.id)
    const ids: Array<number> = []
    for await (const installation of github.getInstallations({ perPage: 20 })) ids.push(installation.id)
    assert.deepStrictEqual(ids, Array.from({ length: 45 }, (_, i) => i + 1))
    assert.strictEqual(await Effect.runPromise(sim.count("GET /app/installations")), 3)
    const raw = await github.request({ method: "GET", path: "/app" })
    assert.strictEqual(raw.status, 200)
  })

  it("rejects with the tagged error classes themselves", async () => {
    const sim = await simulator({ installationCount: 2 })
    await using github = client(sim)
    const missing = await github.getAccessToken(404).then(() => undefined, (error: unknown) => error)
    assert.instanceOf(missing, GithubError.GithubNotFound)
    assert.isFalse(Runtime.isFiberFailure(missing))
    const invalid = await github.getAccessToken(-1).then(() => undefined, (error: unknown) => error)
    assert.instanceOf(invalid, GithubError.InvalidArgument)
    const pages = github.getInstallations({ perPage: 0 })[Symbol.asyncIterator]()
    const bad = await pages.next().then(() => undefined, (error: unknown) => error)
    assert.instanceOf(bad, GithubError.InvalidArgument)
  })

  it("a fresh cached token is answered without starting a fiber; concurrent misses share one POST", async () => {
    const sim = await simulator({ installationCount: 2 })
    const fibers = new Started()
    await using github = client(sim, { supervisor: fibers })
    const tokens = await Promise.all(Array.from({ length: 8 }, () => github.getAccessToken(1)))
    assert.isTrue(tokens.every((t) => Redacted.value(t.token) === Redacted.value(tokens[0]!.token)))
    assert.strictEqual(await Effect.runPromise(sim.count(MINT)), 1)
    const hitsBefore = (await Effect.runPromise(Metric.value(InstallationTokens.metrics.hits))).count
    const started = fibers.count
    assert.isAbove(started, 0)
    for (let i = 0; i < 100; i++) {
      const hit = await github.getAccessToken(1)
      assert.strictEqual(Redacted.value(hit.token), Redacted.value(tokens[0]!.token))
    }
    assert.strictEqual(fibers.count, started)
    // a call that is not a fresh hit does run in the runtime
    await github.getApp()
    assert.isAbove(fibers.count, started)
    assert.strictEqual((await Effect.runPromise(Metric.value(InstallationTokens.metrics.hits))).count, hitsBefore + 100)
    assert.strictEqual((await github.installation(1).accessToken()).token, tokens[0]!.token)
  })

  it("installation references act as the installation; dispose closes the runtime", async () => {
    const sim = await simulator({ installations: [{ account: "octo-org", repositories: ["a", "b", "c"] }] })
    const github = client(sim)
    const ref = github.installation(1)
    assert.strictEqual((await ref.get()).id, 1)
    const names: Array<string> = []
    for await (const repository of ref.repositories()) names.push(repository.name)
    assert.deepStrictEqual(names, ["a", "b", "c"])
    const reply = await ref.request({ method: "GET", path: "/installation/repositories" })
    assert.strictEqual(reply.status, 200)
    await github.dispose()
    const after = await github.getApp().then(() => undefined, (error: unknown) => error)
    assert.isDefined(after)
  })
})
