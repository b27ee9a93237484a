import { describe, expect, it } from 'vitest';
import { loadConfig } from './config.ts';
import { startupAdvice } from './startup-errors.ts';

const config = loadConfig({
  CITY_DATA_DIR: '/srv/city',
  CITY_MQTT_TLS_CERT: '/etc/city/mqtt.crt',
  CITY_MQTT_TLS_KEY: '/etc/city/mqtt.key',
});
const fileError = (code: string, file: string) =>
  Object.assign(new Error(`${code}: open '${file}'`), { code, syscall: 'open', path: file });

describe('start-up advice', () => {
  it('names the TLS variable of a certificate or key that cannot be read', () => {
    expect(startupAdvice(fileError('ENOENT', '/etc/city/mqtt.key'), config)).toMatch(
      /^the TLS file \/etc\/city\/mqtt\.key cannot be read \(ENOENT\)\.\nSet CITY_MQTT_TLS_KEY /,
    );
    expect(startupAdvice(fileError('EACCES', '/etc/city/mqtt.crt'), config)).toContain('CITY_MQTT_TLS_CERT');
  });

  it('blames the data folder only for its own files', () => {
    expect(startupAdvice(fileError('EACCES', '/srv/city/spool/00001.log'), config)).toMatch(
      /^the data folder \/srv\/city cannot be written \(EACCES: \/srv\/city\/spool\/00001\.log\)/,
    );
    expect(startupAdvice(fileError('EACCES', '/elsewhere/file'), config)).toMatch(/please report it/);
  });

  it('names the variable of a port already taken', () => {
    const taken = Object.assign(new Error('listen EADDRINUSE'), {
      code: 'EADDRINUSE',
      syscall: 'listen',
      address: '0.0.0.0',
      port: 8080,
    });
    expect(startupAdvice(taken, config)).toContain('CITY_API_PORT=');
  });
});
