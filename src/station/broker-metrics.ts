import { Counter, type Registry } from 'prom-client';
import type { BrokerRefusals } from './embedded-broker.ts';

/**
 * `radscreen_mqtt_broker_refusals_total{code}`: connections, publishes and subscriptions the
 * embedded broker refused (RS_ERR_MQTT_AUTH, RS_ERR_MQTT_FORBIDDEN, RS_ERR_PAYLOAD_TOO_LARGE),
 * read from its counters at scrape time. A rise is someone without an identity, or with the wrong
 * one, on the station's broker (docs/security-mqtt.md).
 */
export function registerBrokerMetrics(refusals: () => BrokerRefusals, registry: Registry): void {
  const seen = new Map<string, number>();
  new Counter({
    name: 'radscreen_mqtt_broker_refusals_total',
    help: 'MQTT connections, publishes and subscriptions the embedded broker refused, by code',
    labelNames: ['code'],
    registers: [registry],
    collect() {
      for (const [code, total] of Object.entries(refusals())) {
        // Counters only go up through inc(): add the difference since the last scrape.
        const delta = total - (seen.get(code) ?? 0);
        if (delta > 0) this.inc({ code }, delta);
        else if (!seen.has(code)) this.inc({ code }, 0);
        seen.set(code, Math.max(total, seen.get(code) ?? 0));
      }
    },
  });
}
