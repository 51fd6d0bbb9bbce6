/**
 * The simulator's webhook side: signed deliveries POSTed to the app's webhook URL with their outcomes recorded,
 * GitHub's `/app/hook/deliveries` and `/app/hook/config` routes, redelivery, and issue comments made by
 * installations (what webhook handlers usually answer with).
 */
import * as Clock from "effect/Clock"
import * as Effect from "effect/Effect"
import * as Queue from "effect/Queue"
import * as Crypto from "node:crypto"
import type { ExtraRoute, RouteContext, RouteReply } from "./core.js"
import type { Installation, Repository, World } from "./state.js"
import { renderAccount, renderInstallation } from "./state.js"

/** @internal */
export interface HookConfig {
  url: string | undefined
  secret: string | undefined
  contentType: "json" | "form"
  insecureSsl: "0" | "1"
}

/** @internal */
export interface DeliveryRecord {
  readonly id: number
  readonly guid: string
  readonly deliveredAt: number
  readonly redelivery: boolean
  readonly durationMs: number
  readonly status: string
  /** 0 when no HTTP response came (connection refused, reset, timeout). */
  readonly statusCode: number
  readonly event: string
  readonly action: string | undefined
  readonly installationId: number | undefined
  readonly repositoryId: number | undefined
  readonly requestHeaders: Readonly<Record<string, string>>
  readonly body: string
  readonly responseBody: string
}

/** @internal */
export interface CommentRecord {
  readonly id: number
  readonly repository: string
  readonly issueNumber: number
  readonly body: string
  readonly installationId: number
  readonly createdAt: number
}

const json = JSON.stringify
const WEB = "https://github.com"

const errorReply = (status: number, message: string, docs: string): RouteReply => ({
  status,
  body: json({ message, documentation_url: docs, status: String(status) })
})

const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19) + "Z"

/** @internal */
export const makeHooks = (options: {
  readonly world: World
  readonly hookId: number
  readonly config: HookConfig
  readonly apiUrl: () => string
  /** How long a delivery waits for the receiver, as GitHub's 10 s. */
  readonly timeoutMs: number
}) => {
  const { world } = options
  const app = world.app
  const config = options.config
  const deliveries: Array<DeliveryRecord> = []
  const comments: Array<CommentRecord> = []
  const pending = Effect.runSync(Queue.unbounded<number>())
  let nextId = 1
  let nextComment = 1

  const urls = () => ({ api: options.apiUrl(), web: WEB })

  const send = (
    event: string,
    body: string,
    guid: string,
    redelivery: boolean,
    meta: { readonly installationId: number | undefined; readonly repositoryId: number | undefined }
  ): Effect.Effect<DeliveryRecord> =>
    Effect.gen(function*() {
      const started = yield* Clock.currentTimeMillis
      const wire = config.contentType === "form" ? `payload=${encodeURIComponent(body)}` : body
      const headers: Record<string, string> = {
        "content-type": config.contentType === "form" ? "application/x-www-form-urlencoded" : "application/json",
        "user-agent": "GitHub-Hookshot/simulator",
        "x-github-event": event,
        "x-github-delivery": guid,
        "x-github-hook-id": String(options.hookId),
        "x-github-hook-installation-target-type": "integration",
        "x-github-hook-installation-target-id": String(app.id)
      }
      if (config.secret !== undefined) {
        headers["x-hub-signature"] = `sha1=${Crypto.createHmac("sha1", config.secret).update(wire).digest("hex")}`
        headers["x-hub-signature-256"] = `sha256=${
          Crypto.createHmac("sha256", config.secret).update(wire).digest("hex")
        }`
      }
      const url = config.url
      const outcome = url === undefined
        ? { statusCode: 0, status: "No webhook URL is set", responseBody: "" }
        : yield* Effect.promise(async () => {
          try {
            const response = await fetch(url, {
              method: "POST",
              headers,
              body: wire,
              redirect: "manual",
              signal: AbortSignal.timeout(options.timeoutMs)
            })
            const text = await response.text()
            return {
              statusCode: response.status,
              status: response.status >= 200 && response.status < 300
                ? "OK"
                : `Invalid HTTP Response: ${response.status}`,
              responseBody: text
            }
          } catch (error) {
            const timedOut = error instanceof Error && error.name === "TimeoutError"
            return { statusCode: 0, status: timedOut ? "timed out" : "failed to connect to host", responseBody: "" }
          }
        })
      const ended = yield* Clock.currentTimeMillis
      let action: string | undefined
      try {
        const parsed = JSON.parse(body)
        action = typeof parsed.action === "string" ? parsed.action : undefined
      } catch {
        action = undefined
      }
      const record: DeliveryRecord = {
        id: nextId++,
        guid,
        deliveredAt: started,
        redelivery,
        durationMs: ended - started,
        event,
        action,
        ...meta,
        ...outcome,
        requestHeaders: headers,
        body
      }
      deliveries.push(record)
      return record
    })

  const metaOf = (payload: any) => ({
    installationId: typeof payload?.installation?.id === "number" ? payload.installation.id : undefined,
    repositoryId: typeof payload?.repository?.id === "number" ? payload.repository.id : undefined
  })

  const deliver = (event: string, payload: unknown): Effect.Effect<DeliveryRecord> => {
    const body = json(payload)
    return send(event, body, Crypto.randomUUID(), false, metaOf(payload))
  }

  /** Sends a delivery again with the same guid, as GitHub's redelivery does. */
  const redeliver = (id: number): Effect.Effect<DeliveryRecord | undefined> =>
    Effect.suspend(() => {
      const original = deliveries.find((delivery) => delivery.id === id)
      return original === undefined
        ? Effect.succeed(undefined)
        : send(original.event, original.body, original.guid, true, {
          installationId: original.installationId,
          repositoryId: original.repositoryId
        })
    })

  const drain = Effect.forever(Effect.flatMap(Queue.take(pending), redeliver))

  const simpleRepository = (repository: Repository) => ({
    id: repository.id,
    node_id: Buffer.from(`010:Repository${repository.id}`).toString("base64"),
    name: repository.name,
    full_name: repository.fullName,
    private: repository.private
  })

  const sender = () => JSON.parse(renderAccount(app.owner, urls()))

  const installationPayload = (installation: Installation) => JSON.parse(renderInstallation(app, installation, urls()))

  const installationEvent = (
    action: "created" | "deleted" | "suspend" | "unsuspend" | "new_permissions_accepted",
    installation: Installation
  ) =>
    deliver("installation", {
      action,
      installation: installationPayload(installation),
      ...(action === "created" || action === "deleted"
        ? { repositories: installation.repositories.map(simpleRepository) }
        : {}),
      sender: sender()
    })

  const repositoriesEvent = (
    action: "added" | "removed",
    installation: Installation,
    repositories: ReadonlyArray<Repository>
  ) =>
    deliver("installation_repositories", {
      action,
      installation: installationPayload(installation),
      repository_selection: installation.repositorySelection,
      repositories_added: action === "added" ? repositories.map(simpleRepository) : [],
      repositories_removed: action === "removed" ? repositories.map(simpleRepository) : [],
      requester: null,
      sender: sender()
    })

  // --- routes ----------------------------------------------------------------------------------------------

  const docs = "https://docs.github.com/rest/apps/webhooks"
  const renderDelivery = (delivery: DeliveryRecord) => ({
    id: delivery.id,
    guid: delivery.guid,
    delivered_at: iso(delivery.deliveredAt),
    redelivery: delivery.redelivery,
    duration: delivery.durationMs / 1000,
    status: delivery.status,
    status_code: delivery.statusCode,
    event: delivery.event,
    action: delivery.action ?? null,
    installation_id: delivery.installationId ?? null,
    repository_id: delivery.repositoryId ?? null,
    throttled_at: null
  })
  const renderConfig = () =>
    json({
      content_type: config.contentType,
      insecure_ssl: config.insecureSsl,
      url: config.url ?? "",
      ...(config.secret === undefined ? {} : { secret: "********" })
    })

  const listDeliveries = (context: RouteContext): RouteReply => {
    const query = context.request.url.searchParams
    const perPage = Math.min(100, Math.max(1, Number(query.get("per_page") ?? "30") || 30))
    const cursor = query.get("cursor")
    const newestFirst = deliveries.slice().reverse()
    let start = 0
    if (cursor !== null && cursor !== "") {
      const before = /^v1_(\d+)$/.exec(cursor)
      if (before === null) return errorReply(422, "Invalid cursor", `${docs}#list-deliveries-for-an-app-webhook`)
      start = newestFirst.findIndex((delivery) => delivery.id < Number(before[1]))
      if (start < 0) start = newestFirst.length
    }
    const page = newestFirst.slice(start, start + perPage)
    const headers: Record<string, string> = {}
    if (start + perPage < newestFirst.length && page.length > 0) {
      const next = new URL(context.request.url.href)
      next.searchParams.set("per_page", String(perPage))
      next.searchParams.set("cursor", `v1_${page[page.length - 1]!.id}`)
      headers.link = `<${next.href}>; rel="next"`
    }
    return { status: 200, body: json(page.map(renderDelivery)), headers }
  }

  const deliveryById = (context: RouteContext) => {
    const id = Number(context.params[0])
    return deliveries.find((delivery) => delivery.id === id)
  }

  const createComment = (context: RouteContext): RouteReply => {
    const commentDocs = "https://docs.github.com/rest/issues/comments#create-an-issue-comment"
    const auth = context.auth
    if (auth._tag !== "Installation") return errorReply(403, "Resource not accessible by integration", commentDocs)
    const [owner, repo, issue] = context.params
    const fullName = `${owner}/${repo}`.toLowerCase()
    const token = auth.token
    const reachable = (token.repositories ?? token.installation.repositories).some((repository) =>
      repository.fullName.toLowerCase() === fullName
    )
    if (!reachable) return errorReply(404, "Not Found", commentDocs)
    const level = token.permissions.issues
    if (level !== "write" && level !== "admin") {
      return errorReply(403, "Resource not accessible by integration", commentDocs)
    }
    let body: unknown
    try {
      body = JSON.parse(context.request.body)
    } catch {
      return errorReply(400, "Problems parsing JSON", commentDocs)
    }
    const text = (body as any)?.body
    if (typeof text !== "string" || text === "") {
      return errorReply(422, "Invalid request.\n\n\"body\" wasn't supplied.", commentDocs)
    }
    const record: CommentRecord = {
      id: nextComment++,
      repository: `${owner}/${repo}`,
      issueNumber: Number(issue),
      body: text,
      installationId: token.installation.id,
      createdAt: context.now
    }
    comments.push(record)
    return {
      status: 201,
      body: json({
        id: record.id,
        node_id: Buffer.from(`012:IssueComment${record.id}`).toString("base64"),
        url: `${context.urls.api}/repos/${record.repository}/issues/comments/${record.id}`,
        html_url: `${context.urls.web}/${record.repository}/issues/${record.issueNumber}#issuecomment-${record.id}`,
        body: text,
        user: { login: `${app.slug}[bot]`, id: 9_000_000 + app.id, type: "Bot" },
        created_at: iso(context.now),
        updated_at: iso(context.now),
        author_association: "NONE"
      })
    }
  }

  const routes: ReadonlyArray<ExtraRoute> = [
    {
      method: "GET",
      template: "/app/hook/deliveries",
      auth: "jwt",
      docs: `${docs}#list-deliveries-for-an-app-webhook`,
      handle: listDeliveries
    },
    {
      method: "GET",
      template: "/app/hook/deliveries/{delivery_id}",
      auth: "jwt",
      docs: `${docs}#get-a-delivery-for-an-app-webhook`,
      handle: (context) => {
        const delivery = deliveryById(context)
        if (delivery === undefined) return errorReply(404, "Not Found", `${docs}#get-a-delivery-for-an-app-webhook`)
        return {
          status: 200,
          body: json({
            ...renderDelivery(delivery),
            url: config.url ?? "",
            request: { headers: delivery.requestHeaders, payload: JSON.parse(delivery.body) },
            response: { headers: {}, payload: delivery.responseBody }
          })
        }
      }
    },
    {
      method: "POST",
      template: "/app/hook/deliveries/{delivery_id}/attempts",
      auth: "jwt",
      docs: `${docs}#redeliver-a-delivery-for-an-app-webhook`,
      handle: (context) => {
        const delivery = deliveryById(context)
        if (delivery === undefined) {
          return errorReply(404, "Not Found", `${docs}#redeliver-a-delivery-for-an-app-webhook`)
        }
        Queue.unsafeOffer(pending, delivery.id)
        return { status: 202, body: "{}" }
      }
    },
    {
      method: "GET",
      template: "/app/hook/config",
      auth: "jwt",
      docs: `${docs}#get-a-webhook-configuration-for-an-app`,
      handle: () => ({ status: 200, body: renderConfig() })
    },
    {
      method: "PATCH",
      template: "/app/hook/config",
      auth: "jwt",
      docs: `${docs}#update-a-webhook-configuration-for-an-app`,
      handle: (context) => {
        let body: any
        try {
          body = JSON.parse(context.request.body || "{}")
        } catch {
          return errorReply(400, "Problems parsing JSON", `${docs}#update-a-webhook-configuration-for-an-app`)
        }
        if (typeof body.url === "string") config.url = body.url
        if (body.content_type === "json" || body.content_type === "form") config.contentType = body.content_type
        if (typeof body.secret === "string") config.secret = body.secret === "" ? undefined : body.secret
        if (body.insecure_ssl === "0" || body.insecure_ssl === "1") config.insecureSsl = body.insecure_ssl
        if (typeof body.insecure_ssl === "number") config.insecureSsl = body.insecure_ssl === 1 ? "1" : "0"
        return { status: 200, body: renderConfig() }
      }
    },
    {
      method: "POST",
      template: "/repos/{owner}/{repo}/issues/{issue_number}/comments",
      auth: "token",
      docs: "https://docs.github.com/rest/issues/comments#create-an-issue-comment",
      handle: createComment
    }
  ]

  return {
    routes,
    config,
    deliver,
    redeliver,
    drain,
    installationEvent,
    repositoriesEvent,
    deliveries: (): ReadonlyArray<DeliveryRecord> => deliveries.slice(),
    comments: (): ReadonlyArray<CommentRecord> => comments.slice()
  }
}
