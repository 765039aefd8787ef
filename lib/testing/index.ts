/**
 * `cachette/testing`: helpers for people who write a {@link Store} of their own.
 *
 * {@link runStoreContract} registers the suite every cachette store passes (memory and Redis run it
 * too) with your test runner: jest, vitest or `node:test`. The guide is docs/guides/custom-store.md
 * ("Writing a store").
 * @module cachette/testing
 */
export {
  runStoreContract,
  type ContractCase,
  type StoreCapability,
  type StoreContractOptions,
  type StoreUnderTest,
  type TestFunction,
  type TestFunctions,
  type TestFunctionsWithIt,
  type TestFunctionsWithTest,
} from './store-contract.js';
export type { MaybePromise, Store } from '../stores/store.js';
