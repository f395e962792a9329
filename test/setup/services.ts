// Placeholder: replaced by the real global set-up (installs and starts influxd and mosquitto).
export default async function setup(): Promise<void> {}
