// The test world's Backstage backend: the catalog (with the Template kind) and
// the scaffolder, nothing else. internal/testworld/backstage.go starts it with
// NODE_PATH pointing at the node_modules it installed from package-lock.json
// into the user cache dir, and with app-config.yaml beside this file.
'use strict';

const { createBackend } = require('@backstage/backend-defaults');
const { createBackendModule } = require('@backstage/backend-plugin-api');
const { catalogLocationsExtensionPoint } = require('@backstage/plugin-catalog-node');

// Tests register local files as well as URLs through POST /api/catalog/locations;
// a stock catalog accepts only "url" there.
const fileLocations = createBackendModule({
  pluginId: 'catalog',
  moduleId: 'testworld-file-locations',
  register(env) {
    env.registerInit({
      deps: { locations: catalogLocationsExtensionPoint },
      async init({ locations }) {
        locations.setAllowedLocationTypes(['url', 'file']);
      },
    });
  },
});

const backend = createBackend();
backend.add(require('@backstage/plugin-catalog-backend'));
backend.add(require('@backstage/plugin-catalog-backend-module-scaffolder-entity-model'));
backend.add(fileLocations);
backend.add(require('@backstage/plugin-scaffolder-backend'));
backend.start().catch(err => {
  console.error(err);
  process.exit(1);
});
