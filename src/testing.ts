export { runStoreSuite, type StoreSuiteSubject } from "./testing/store-suite.js";
