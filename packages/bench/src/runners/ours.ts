/**
 * effect-github as its users call it: one `NodeIntegration.layer` with every option, one `ManagedRuntime` built
 * before the timed region, and each scenario written as one Effect program run with `runtime.runPromise`.
 * S4 asks `AppAuth.createJwt()` for a freshly signed JWT each time (the reused `jwt` would not be a fair
 * comparison of signing).
 *
 * @since 0.1.0
 */
import { AppAuth, Integration } from "@effect-github/app"
import { NodeIntegration } from "@effect-github/node"
import * as Effect from "effect/Effect"
import * as ManagedRuntime from "effect/ManagedRuntime"
import * as Redacted from "effect/Redacted"
import * as Stream from "effect/Stream"
import type { ClientFactory } from "../scenarios.js"
import { runnerMain } from "../scenarios.js"

const factory: ClientFactory = async ({ appId, task }) => {
  const runtime = ManagedRuntime.make(
    NodeIntegration.layer({
      appId,
      privateKey: Redacted.make(task.privateKeyPem),
      baseUrl: task.baseUrl,
      secondsBetweenRequests: 0,
      secondsBetweenWrites: 0,
      // the other runners do not pace to GitHub's secondary limits either: measure the client, not the pacing
      pointsPerMinute: 0,
      contentCreatingPerMinute: 0,
      contentCreatingPerHour: 0,
      poolSize: 16
    })
  )
  // Builds the layer (parses the key, opens the pool) outside the timed region.
  const { auth, integration } = await runtime.runPromise(
    Effect.all({ auth: AppAuth.AppAuth, integration: Integration.Integration })
  )

  return {
    getApp: (n) =>
      runtime.runPromise(
        Effect.forEach(Array.from({ length: n }), () => Effect.map(integration.getApp(), (app) => app.id))
      ),
    listInstallations: (perPage, onItem) =>
      runtime.runPromise(
        Stream.runForEach(integration.getInstallations({ perPage }), (installation) =>
          Effect.sync(() => onItem(installation.id)))
      ),
    tokens: (ids, concurrency) =>
      runtime.runPromise(
        pool(ids.length, concurrency, (i) =>
          Effect.map(integration.getAccessToken(ids[i]!), (authorization) => ({
            token: Redacted.value(authorization.token),
            expiresAt: authorization.expires_at.getTime()
          })))
      ),
    jwts: (n) =>
      runtime.runPromise(Effect.forEach(Array.from({ length: n }), () => Effect.map(auth.createJwt(), Redacted.value))),
    close: () => runtime.dispose()
  }
}

/**
 * `concurrency` fibers taking the next index until none is left: the same shape as the other runners' `pool`
 * (`Effect.forEach` with `{ concurrency }` would start a fiber per item, which the others do not pay either).
 */
const pool = <A, E>(count: number, concurrency: number, f: (index: number) => Effect.Effect<A, E>) =>
  Effect.suspend(() => {
    const out = new Array<A>(count)
    let next = 0
    const worker = Effect.whileLoop({
      while: () => next < count,
      body: () => {
        const i = next++
        return Effect.map(f(i), (a) => {
          out[i] = a
        })
      },
      step: () => {}
    })
    return Effect.as(
      Effect.all(Array.from({ length: Math.min(concurrency, count) }, () => worker), {
        concurrency: "unbounded",
        discard: true
      }),
      out
    )
  })

runnerMain("ours", factory)
