/**
 * The receipt contract lives in src/core/receipts.ts (below both the agent and ingest, so neither
 * imports the other); this re-export keeps ingest's own imports short and stable.
 */
export { createDurableReceipts, type DurableReceipts, type ReceiptListener } from '../core/receipts.ts';
