/**
 * @since 0.1.0
 */
export * as Cli from "./Cli.js"
export * as Demo from "./Demo.js"
export * as Stdio from "./Stdio.js"
