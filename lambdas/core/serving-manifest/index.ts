export * from './manifest';
export * from './manifest-history';
export * from './manifest-store';
export * from './publish';
