/**
 * The simulator's world (app, accounts, installations, repositories) and its GitHub wire JSON rendering.
 * Everything is deterministic: ids are sequential and timestamps fixed, so tests can assert on them.
 */
import type { InstallationSpec } from "../GithubSimulator.js"

/** @internal */
export type Level = "read" | "write" | "admin"

/** @internal */
export type AccountType = "User" | "Organization" | "Enterprise"

/** @internal */
export interface Account {
  readonly id: number
  readonly login: string
  readonly type: AccountType
}

/** @internal */
export interface Repository {
  readonly id: number
  readonly name: string
  readonly fullName: string
  readonly private: boolean
  readonly owner: Account
}

/** @internal */
export interface Installation {
  readonly id: number
  readonly account: Account
  readonly permissions: Readonly<Record<string, Level>>
  readonly events: ReadonlyArray<string>
  readonly repositorySelection: "all" | "selected"
  readonly repositories: ReadonlyArray<Repository>
  readonly createdAt: string
  readonly updatedAtMs: number
  suspendedAt: string | undefined
}

/** @internal */
export interface App {
  readonly id: number
  readonly clientId: string
  readonly slug: string
  readonly name: string
  readonly description: string
  readonly owner: Account
  readonly permissions: Readonly<Record<string, Level>>
  readonly events: ReadonlyArray<string>
  readonly createdAt: string
}

/** @internal */
export interface WorldOptions {
  readonly appId: number
  readonly clientId: string | undefined
  readonly slug: string
  readonly name: string
  readonly owner: string
  readonly permissions: Readonly<Record<string, Level>>
  readonly events: ReadonlyArray<string>
  readonly installations: ReadonlyArray<InstallationSpec>
  readonly installationCount: number
  readonly repositoriesPerInstallation: number
}

// Fixed epoch for created/updated timestamps: the world does not depend on the clock it is created under.
const EPOCH = Date.UTC(2024, 0, 1)

/** @internal */
export const isoSeconds = (ms: number): string =>
  new Date(Math.floor(ms / 1000) * 1000).toISOString().slice(0, 19) + "Z"

/** @internal */
export interface World {
  readonly app: App
  readonly installations: ReadonlyArray<Installation>
  readonly byId: (id: number) => Installation | undefined
  readonly byAccount: (login: string) => Installation | undefined
  readonly byRepository: (fullName: string) => Installation | undefined
  /** Uninstalls: the installation leaves every lookup and listing; returns it, or undefined if unknown. */
  readonly remove: (id: number) => Installation | undefined
}

/** @internal */
export const makeWorld = (options: WorldOptions): World => {
  const owner: Account = { id: 1, login: options.owner, type: "Organization" }
  const app: App = {
    id: options.appId,
    clientId: options.clientId ?? `Iv23li${options.appId.toString(36).padStart(14, "0")}`,
    slug: options.slug,
    name: options.name,
    description: "A GitHub App served by the effect-github simulator",
    owner,
    permissions: options.permissions,
    events: options.events,
    createdAt: isoSeconds(EPOCH)
  }
  const specs: Array<InstallationSpec> = [...options.installations]
  const cycle: ReadonlyArray<AccountType> = ["Organization", "User", "Enterprise"]
  for (let i = 0; i < options.installationCount; i++) {
    const id = specs.length + 1
    const type = cycle[i % 3]!
    specs.push({
      account: `${type === "Organization" ? "org" : type === "User" ? "user" : "enterprise"}-${id}`,
      type,
      repositories: type === "Enterprise" ? 0 : options.repositoriesPerInstallation
    })
  }
  let nextRepositoryId = 1_000_001
  const logins = new Map<string, Installation>()
  const installations = specs.map((spec, index): Installation => {
    const id = index + 1
    const login = spec.account
    if (logins.has(login.toLowerCase())) {
      throw new Error(`GithubSimulator: the app can be installed once per account, "${login}" appears twice`)
    }
    const account: Account = { id: 1000 + id, login, type: spec.type ?? "Organization" }
    const names = typeof spec.repositories === "number" || spec.repositories === undefined
      ? Array.from({ length: spec.repositories ?? options.repositoriesPerInstallation }, (_, i) => `repo-${i + 1}`)
      : spec.repositories
    const repositories = names.map((name): Repository => ({
      id: nextRepositoryId++,
      name,
      fullName: `${login}/${name}`,
      private: spec.private ?? false,
      owner: account
    }))
    const createdMs = EPOCH + id * 1000
    const installation: Installation = {
      id,
      account,
      permissions: spec.permissions ?? options.permissions,
      events: spec.events ?? options.events,
      repositorySelection: spec.repositorySelection ?? "all",
      repositories,
      createdAt: new Date(createdMs).toISOString(),
      updatedAtMs: createdMs,
      suspendedAt: spec.suspended ? new Date(createdMs).toISOString() : undefined
    }
    logins.set(login.toLowerCase(), installation)
    return installation
  })
  // Built on first use: 100k installations should not pay for an index nobody asks for.
  let repositoryIndex: Map<string, Installation> | undefined
  // Ids are positions until the first uninstall; from then on a copy with holes keeps them.
  let slots: Array<Installation | undefined> | undefined
  return {
    app,
    installations,
    byId: (id) => (slots ?? installations)[id - 1],
    remove: (id) => {
      const installation = (slots ?? installations)[id - 1]
      if (installation === undefined) return undefined
      slots ??= installations.slice()
      slots[id - 1] = undefined
      installations.splice(installations.indexOf(installation), 1)
      logins.delete(installation.account.login.toLowerCase())
      repositoryIndex = undefined
      return installation
    },
    byAccount: (login) => logins.get(login.toLowerCase()),
    byRepository: (fullName) => {
      if (repositoryIndex === undefined) {
        repositoryIndex = new Map()
        for (const installation of installations) {
          for (const repository of installation.repositories) {
            repositoryIndex.set(repository.fullName.toLowerCase(), installation)
          }
        }
      }
      return repositoryIndex.get(fullName.toLowerCase())
    }
  }
}

/** Bases of the URLs inside response bodies: the API's own origin + prefix, and the web UI. */
export interface Urls {
  readonly api: string
  readonly web: string
}

const s = JSON.stringify

// Generated installations share their permissions and events objects: stringify each object once.
const stringified = new WeakMap<object, string>()
const sj = (value: object): string => {
  let out = stringified.get(value)
  if (out === undefined) {
    out = JSON.stringify(value)
    stringified.set(value, out)
  }
  return out
}

const nodeId = (kind: string, id: number) => Buffer.from(`${kind}${id}`).toString("base64")

/** @internal */
export const renderAccount = (account: Account, urls: Urls): string => {
  const web = `${urls.web}/${account.login}`
  if (account.type === "Enterprise") {
    return `{"id":${account.id},"slug":${s(account.login)},"name":${s(account.login)},"node_id":${
      s(nodeId("010:Enterprise", account.id))
    },"avatar_url":${s(`https://avatars.githubusercontent.com/b/${account.id}?v=4`)},"description":null,` +
      `"website_url":null,"html_url":${s(`${urls.web}/enterprises/${account.login}`)},"created_at":${
        s(isoSeconds(EPOCH))
      },"updated_at":${s(isoSeconds(EPOCH))}}`
  }
  const api = `${urls.api}/users/${account.login}`
  const kind = account.type === "User" ? "04:User" : "012:Organization"
  return `{"login":${s(account.login)},"id":${account.id},"node_id":${s(nodeId(kind, account.id))},"avatar_url":${
    s(`https://avatars.githubusercontent.com/u/${account.id}?v=4`)
  },"gravatar_id":"","url":${s(api)},"html_url":${s(web)},"followers_url":${s(`${api}/followers`)},` +
    `"following_url":${s(`${api}/following{/other_user}`)},"gists_url":${s(`${api}/gists{/gist_id}`)},` +
    `"starred_url":${s(`${api}/starred{/owner}{/repo}`)},"subscriptions_url":${s(`${api}/subscriptions`)},` +
    `"organizations_url":${s(`${api}/orgs`)},"repos_url":${s(`${api}/repos`)},` +
    `"events_url":${s(`${api}/events{/privacy}`)},"received_events_url":${s(`${api}/received_events`)},` +
    `"type":${s(account.type)},"user_view_type":"public","site_admin":false}`
}

/** @internal */
export const renderApp = (app: App, installationsCount: number, urls: Urls): string =>
  `{"id":${app.id},"client_id":${s(app.clientId)},"slug":${s(app.slug)},"node_id":${
    s(nodeId("011:Integration", app.id))
  },"owner":${renderAccount(app.owner, urls)},"name":${s(app.name)},"description":${s(app.description)},` +
  `"external_url":"https://example.com","html_url":${s(`${urls.web}/apps/${app.slug}`)},"created_at":${
    s(app.createdAt)
  },"updated_at":${s(app.createdAt)},"permissions":${s(app.permissions)},"events":${
    s(app.events)
  },"installations_count":${installationsCount}}`

/** @internal */
export const renderInstallation = (app: App, installation: Installation, urls: Urls): string => {
  const account = installation.account
  const settings = account.type === "Organization"
    ? `${urls.web}/organizations/${account.login}/settings/installations/${installation.id}`
    : account.type === "Enterprise"
    ? `${urls.web}/enterprises/${account.login}/settings/apps/installations/${installation.id}`
    : `${urls.web}/settings/installations/${installation.id}`
  const suspended = installation.suspendedAt
  return `{"id":${installation.id},"client_id":${s(app.clientId)},"account":${
    renderAccount(account, urls)
  },"repository_selection":${s(installation.repositorySelection)},"access_tokens_url":${
    s(`${urls.api}/app/installations/${installation.id}/access_tokens`)
  },"repositories_url":${s(`${urls.api}/installation/repositories`)},"html_url":${s(settings)},"app_id":${app.id},` +
    `"app_slug":${s(app.slug)},"target_id":${account.id},"target_type":${s(account.type)},"permissions":${
      sj(installation.permissions)
    },"events":${sj(installation.events)},"created_at":${s(installation.createdAt)},"updated_at":${
      s(new Date(installation.updatedAtMs).toISOString())
    },"single_file_name":null,"has_multiple_single_files":false,"single_file_paths":[],"suspended_by":${
      suspended === undefined ? "null" : renderAccount(app.owner, urls)
    },"suspended_at":${suspended === undefined ? "null" : s(suspended)}}`
}

const repositoryUrls: ReadonlyArray<readonly [string, string]> = [
  ["archive_url", "/{archive_format}{/ref}"],
  ["assignees_url", "/assignees{/user}"],
  ["blobs_url", "/git/blobs{/sha}"],
  ["branches_url", "/branches{/branch}"],
  ["collaborators_url", "/collaborators{/collaborator}"],
  ["comments_url", "/comments{/number}"],
  ["commits_url", "/commits{/sha}"],
  ["compare_url", "/compare/{base}...{head}"],
  ["contents_url", "/contents/{+path}"],
  ["contributors_url", "/contributors"],
  ["deployments_url", "/deployments"],
  ["downloads_url", "/downloads"],
  ["events_url", "/events"],
  ["forks_url", "/forks"],
  ["git_commits_url", "/git/commits{/sha}"],
  ["git_refs_url", "/git/refs{/sha}"],
  ["git_tags_url", "/git/tags{/sha}"],
  ["hooks_url", "/hooks"],
  ["issue_comment_url", "/issues/comments{/number}"],
  ["issue_events_url", "/issues/events{/number}"],
  ["issues_url", "/issues{/number}"],
  ["keys_url", "/keys{/key_id}"],
  ["labels_url", "/labels{/name}"],
  ["languages_url", "/languages"],
  ["merges_url", "/merges"],
  ["milestones_url", "/milestones{/number}"],
  ["notifications_url", "/notifications{?since,all,participating}"],
  ["pulls_url", "/pulls{/number}"],
  ["releases_url", "/releases{/id}"],
  ["stargazers_url", "/stargazers"],
  ["statuses_url", "/statuses/{sha}"],
  ["subscribers_url", "/subscribers"],
  ["subscription_url", "/subscription"],
  ["tags_url", "/tags"],
  ["teams_url", "/teams"],
  ["trees_url", "/git/trees{/sha}"]
]

/** @internal */
export const renderRepository = (repository: Repository, urls: Urls): string => {
  const api = `${urls.api}/repos/${repository.fullName}`
  const web = `${urls.web}/${repository.fullName}`
  const host = new URL(urls.web).host
  let links = ""
  for (const [key, suffix] of repositoryUrls) links += `,${s(key)}:${s(api + suffix)}`
  const at = s(isoSeconds(EPOCH))
  return `{"id":${repository.id},"node_id":${s(nodeId("010:Repository", repository.id))},"name":${
    s(repository.name)
  },"full_name":${s(repository.fullName)},"private":${repository.private},"owner":${
    // GitHub repositories are owned by users or organizations, never by an enterprise (whose account has no login)
    renderAccount(
      repository.owner.type === "Enterprise" ? { ...repository.owner, type: "Organization" } : repository.owner,
      urls
    )},"html_url":${s(web)},"description":null,"fork":false,"url":${s(api)}${links},"git_url":${
    s(`git://${host}/${repository.fullName}.git`)
  },"ssh_url":${s(`git@${host}:${repository.fullName}.git`)},"clone_url":${s(`${web}.git`)},"svn_url":${s(web)},` +
    `"mirror_url":null,"homepage":null,"language":null,"forks_count":0,"stargazers_count":0,"watchers_count":0,` +
    `"size":0,"default_branch":"main","open_issues_count":0,"is_template":false,"topics":[],"has_issues":true,` +
    `"has_projects":true,"has_wiki":true,"has_pages":false,"has_downloads":true,"has_discussions":false,` +
    `"archived":false,"disabled":false,"visibility":${
      repository.private ? `"private"` : `"public"`
    },"pushed_at":${at},"created_at":${at},"updated_at":${at},"permissions":{"admin":false,"maintain":false,` +
    `"push":false,"triage":false,"pull":true},"allow_forking":true,"web_commit_signoff_required":false,` +
    `"license":null,"forks":0,"open_issues":0,"watchers":0}`
}
