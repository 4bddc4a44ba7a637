// Package deploy holds the deployment artefacts; its tests check them.
package deploy
