/**
 * effect-github as a Promise caller uses it: one `NodeIntegrationClient.make` (one `ManagedRuntime`), built before
 * the timed region, and one Promise call per operation (a cached token is answered without a fiber). S4 has no
 * facade method: each JWT is one `runtime.runPromise` of `Integration.createJwt()`, as such a caller would write it.
 *
 * @since 0.2.0
 */
import { Integration } from "@effect-github/app"
import { NodeIntegrationClient } from "@effect-github/node"
import * as Effect from "effect/Effect"
import * as Redacted from "effect/Redacted"
import type { ClientFactory } from "../scenarios.js"
import { pool, runnerMain } from "../scenarios.js"

const factory: ClientFactory = async ({ appId, task }) => {
  const github = NodeIntegrationClient.make({
    appId,
    privateKey: Redacted.make(task.privateKeyPem),
    baseUrl: task.baseUrl,
    secondsBetweenRequests: 0,
    secondsBetweenWrites: 0,
    poolSize: 16
  })
  // Builds the layer (parses the key, opens the pool) outside the timed region.
  await github.runtime.runPromise(Integration.Integration)
  const createJwt = Effect.flatMap(Integration.Integration, (integration) => integration.createJwt())

  return {
    getApp: async (n) => {
      const ids: Array<number> = []
      for (let i = 0; i < n; i++) ids.push((await github.getApp()).id)
      return ids
    },
    listInstallations: async (perPage, onItem) => {
      for await (const installation of github.getInstallations({ perPage })) onItem(installation.id)
    },
    tokens: (ids, concurrency) =>
      pool(ids.length, concurrency, async (i) => {
        const authorization = await github.getAccessToken(ids[i]!)
        return { token: Redacted.value(authorization.token), expiresAt: authorization.expires_at.getTime() }
      }),
    jwts: async (n) => {
      const out: Array<string> = []
      for (let i = 0; i < n; i++) out.push(Redacted.value(await github.runtime.runPromise(createJwt)))
      return out
    },
    close: () => github.dispose()
  }
}

runnerMain("ours-promise", factory)
