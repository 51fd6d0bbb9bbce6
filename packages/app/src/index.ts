/**
 * @since 0.1.0
 */
export * as Account from "./Account.js"
export * as AppAuth from "./AppAuth.js"
export * as GithubApp from "./GithubApp.js"
export * as GithubError from "./GithubError.js"
export * as HttpRequester from "./HttpRequester.js"
export * as IdentityStore from "./IdentityStore.js"
export * as Installation from "./Installation.js"
export * as InstallationAuthorization from "./InstallationAuthorization.js"
export * as InstallationTokens from "./InstallationTokens.js"
export * as Integration from "./Integration.js"
export * as IntegrationClient from "./IntegrationClient.js"
export * as Permissions from "./Permissions.js"
export * as Repository from "./Repository.js"
export * as TokenStore from "./TokenStore.js"
