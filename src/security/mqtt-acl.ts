import { DEADLETTER_TOPIC, TOPIC_ROOT } from '../core/contract.ts';
import { type MqttIdentity, TRAINING_DEVICE_PREFIX } from './mqtt-identity.ts';

/**
 * The ACL: what each identity may publish (`write`) and subscribe to (`read`), as MQTT topic
 * filters. One table serves the embedded broker (checked per PUBLISH and SUBSCRIBE) and the
 * generated mosquitto `acl_file` (src/security/mosquitto-files.ts). Anything not granted is
 * refused. A level `training-*` matches any one level starting with `training-` (an extension
 * mosquitto lacks: the acl_file lists the training devices it knows instead).
 */
export interface AclRule {
  access: 'read' | 'write';
  filter: string;
}

/** The topics an MQTT-native device publishes on (the device's configured or profile topic filters). */
export type DeviceTopics = (device: string) => readonly string[];

const TRAINING_LEVEL = `${TRAINING_DEVICE_PREFIX}*`;
export const SERVICE_TOPICS = `${TOPIC_ROOT}/service/#`;

/** The rules of one identity. `deviceTopics` resolves MQTT-native device topics (none by default). */
export function aclRules(id: MqttIdentity, deviceTopics: DeviceTopics = () => []): AclRule[] {
  const root = `${TOPIC_ROOT}/${id.station}`;
  const r = (access: AclRule['access'], ...filters: string[]) => filters.map((filter) => ({ access, filter }));
  switch (id.role) {
    case 'server':
      return [
        ...r('read', `${root}/#`, DEADLETTER_TOPIC, SERVICE_TOPICS),
        ...r('write', `${root}/+/calibration`, `${root}/alarms`, DEADLETTER_TOPIC, SERVICE_TOPICS),
      ];
    case 'ingest':
      // Workers of a cluster ingest every station's readings; dead letters and their own service
      // alarms are the only things they publish.
      return [
        ...r('read', `${TOPIC_ROOT}/+/+/readings`, `${TOPIC_ROOT}/+/+/status`, `${TOPIC_ROOT}/+/alarms`),
        ...r('write', DEADLETTER_TOPIC, `${TOPIC_ROOT}/service/ingest/#`),
      ];
    case 'agent': {
      const own = `${root}/${id.device}`;
      return [
        ...r('write', `${own}/readings`, `${own}/status`, `${own}/raw`, `${own}/spectrum`, DEADLETTER_TOPIC),
        ...r('read', `${own}/calibration`, ...deviceTopics(id.device)),
      ];
    }
    case 'device':
      return r('write', ...deviceTopics(id.device));
    case 'training':
      // A run's own client: clears the retained status and calibration of its devices when it
      // ends, and watches the alarms. `training-*` devices only, never the station's own.
      return [...r('write', `${root}/${TRAINING_LEVEL}/status`, `${root}/${TRAINING_LEVEL}/calibration`), ...r('read', `${root}/alarms`)];
  }
}

const levelMatches = (rule: string, level: string) =>
  rule === '+' ? true : rule.endsWith('*') ? level.startsWith(rule.slice(0, -1)) && !/[+#]/.test(level) : rule === level;

/** Does a concrete topic match a filter (`+`, `#`, and the `prefix*` level above)? */
export function topicMatches(filter: string, topic: string): boolean {
  const f = filter.split('/');
  const t = topic.split('/');
  // Per MQTT 4.7.2, a `#` or `+` at the root never matches topics beginning with `$`.
  if (t[0]?.startsWith('$') && (f[0] === '#' || f[0] === '+')) return false;
  for (let i = 0; i < f.length; i++) {
    if (f[i] === '#') return true;
    if (i >= t.length || !levelMatches(f[i] as string, t[i] as string)) return false;
  }
  return f.length === t.length;
}

/** Is every topic a subscription `sub` can match also matched by `rule`? */
export function filterCovers(rule: string, sub: string): boolean {
  const r = rule.split('/');
  const s = sub.split('/');
  for (let i = 0; i < r.length; i++) {
    if (r[i] === '#') return true;
    const level = s[i];
    if (level === undefined || level === '#') return false;
    if (level === '+' ? r[i] !== '+' : !levelMatches(r[i] as string, level)) return false;
  }
  return r.length === s.length;
}

/** `$share/<group>/<filter>` → `<filter>`: a shared subscription reads what its filter reads. */
export function unshare(filter: string): string {
  const m = /^\$share\/[^/]+\/(.+)$/.exec(filter);
  return m ? (m[1] as string) : filter;
}

export const mayPublish = (rules: readonly AclRule[], topic: string) =>
  rules.some((r) => r.access === 'write' && topicMatches(r.filter, topic));

export const maySubscribe = (rules: readonly AclRule[], filter: string) =>
  rules.some((r) => r.access === 'read' && filterCovers(r.filter, unshare(filter)));
