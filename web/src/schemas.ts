// The API's shapes as its OpenAPI document describes them (generated/api.ts, written by
// `npm run generate:api` from web/openapi.json): `Schema<"AlarmOut">`, never a copy by hand.
import type { components } from "./generated/api";

export type Schema<Name extends keyof components["schemas"]> = components["schemas"][Name];
