import type { Command } from 'commander';
import { catalogue } from '../../devices/index.ts';
import { loadConfigOrExit } from './common.ts';

/**
 * `radscreen mqtt-acl --out DIR`: the station's MQTT identities and ACL as mosquitto files
 * (password_file, acl_file, mosquitto.conf.snippet), from the config and its credentials file.
 */
export function registerMqttAclCommand(program: Command): void {
  program
    .command('mqtt-acl')
    .description('write a mosquitto password_file, acl_file and mosquitto.conf snippet with the station’s MQTT identities and ACL')
    .option('-c, --config <file>', 'YAML config file', 'examples/station.yaml')
    .requiredOption('-o, --out <dir>', 'directory for the files (created 0700; password_file is 0600)')
    .option('--no-training', 'leave out the identities and topics of the shipped training scenarios')
    .addHelpText(
      'after',
      '\nEvery radscreen process of the station must read the same credentials file (mqtt.credentials_file,\n' +
        'default <data_dir>/mqtt-credentials.json). Run again after adding devices. See docs/security-mqtt.md.\n',
    )
    .action(async (opts: { config: string; out: string; training: boolean }) => {
      const config = loadConfigOrExit(opts.config);
      const [
        { writeMosquittoFiles },
        { deviceTopicsFrom },
        { credentialsPath, loadMqttCredentials },
        { listScenarios },
        { findMosquittoPasswd },
      ] = await Promise.all([
        import('../security/mosquitto-files.ts'),
        import('../security/device-topics.ts'),
        import('../security/mqtt-credentials.ts'),
        import('../training/scenario.ts'),
        import('../security/find-binary.ts'),
      ]);
      const isMqtt = (profile: string) => catalogue.get(profile)?.link.type === 'mqtt';
      const training = opts.training
        ? listScenarios().flatMap((e) =>
            e.scenario ? e.scenario.devices.map((d) => ({ id: `training-${d.id}`, profile: d.profile })) : [],
          )
        : [];
      const trainingIds = [...new Set(training.map((d) => d.id))];
      const written = writeMosquittoFiles(
        opts.out,
        {
          station: config.station.id,
          agentDevices: [...config.devices.map((d) => d.id), ...trainingIds],
          mqttDevices: [
            ...config.devices.filter((d) => isMqtt(d.profile) && !d.mqtt?.url),
            ...training.filter((d) => isMqtt(d.profile)),
          ].map((d) => d.id),
          trainingDevices: trainingIds,
          deviceTopics: deviceTopicsFrom(catalogue, config.devices),
          credentials: loadMqttCredentials(credentialsPath(config)),
          maxPacketBytes: config.mqtt.max_packet_bytes,
        },
        findMosquittoPasswd(),
      );
      process.stdout.write(
        `${written.identities} identities (hashed by ${written.hashedBy}):\n  ${written.passwordFile}\n  ${written.aclFile}\n  ${written.confSnippet}\n` +
          'Add the snippet to mosquitto.conf and restart mosquitto.\n',
      );
    });
}
