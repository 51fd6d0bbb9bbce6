/**
 * Octokit as a GitHub App is usually written: `@octokit/app` 16 over `@octokit/core` 7 with the paginate, retry
 * and throttling plugins (throttling turned off, since spacing is 0 for every runner), `baseUrl` the fake.
 * Tokens come from `app.octokit.auth({ type: "installation" })` (auth-app's LRU cache, single-flight by key);
 * the list uses `paginate.iterator` at `per_page=100` (`app.eachInstallation` would also mint a token for
 * every installation); S4 asks auth-app for `{ type: "app" }` authentication, which signs a fresh JWT each time,
 * as it does before every app-authenticated request.
 *
 * @since 0.1.0
 */
import { App } from "@octokit/app"
import { Octokit as Core } from "@octokit/core"
import { paginateRest } from "@octokit/plugin-paginate-rest"
import { retry } from "@octokit/plugin-retry"
import { throttling } from "@octokit/plugin-throttling"
import type { ClientFactory } from "../scenarios.js"
import { pool, runnerMain } from "../scenarios.js"

const Octokit = Core.plugin(paginateRest, retry, throttling)

const factory: ClientFactory = async ({ appId, task }) => {
  const app = new App({
    appId,
    privateKey: task.privateKeyPem,
    Octokit: Octokit.defaults({ baseUrl: task.baseUrl, throttle: { enabled: false } })
  })
  const octokit = app.octokit

  const token = async (installationId: number) => {
    const auth = (await octokit.auth({ type: "installation", installationId })) as {
      token: string
      expiresAt: string
    }
    return { token: auth.token, expiresAt: Date.parse(auth.expiresAt) }
  }

  return {
    getApp: async (n) => {
      const ids: Array<number> = []
      for (let i = 0; i < n; i++) ids.push((await octokit.request("GET /app")).data!.id)
      return ids
    },
    listInstallations: async (perPage, onItem) => {
      for await (const { data } of octokit.paginate.iterator("GET /app/installations", { per_page: perPage })) {
        for (const installation of data) onItem(installation.id)
      }
    },
    tokens: (ids, concurrency) => pool(ids.length, concurrency, (i) => token(ids[i]!)),
    jwts: async (n) => {
      const out: Array<string> = []
      for (let i = 0; i < n; i++) out.push(((await octokit.auth({ type: "app" })) as { token: string }).token)
      return out
    },
    close: async () => {}
  }
}

runnerMain("octokit", factory)
