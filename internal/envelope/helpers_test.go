package envelope

import "path/filepath"

// samplePath names a file of the shared Cisco samples (never copied into
// the repository); tests skip when it is absent.
func samplePath(name string) string {
	return filepath.Join("..", "..", "..", "shared", "cisco-samples", name)
}

// syntheticDLU is a made-up event in the wire's shape and size.
const syntheticDLU = `{"recordUid":"event-1a2b3c4d","recordTimestamp":1700000000123,"spacesTenantId":"spaces-tenant-00000001","spacesTenantName":"Example","partnerTenantId":"Example-Partner","eventType":"DEVICE_LOCATION_UPDATE","deviceLocationUpdate":{"device":{"deviceId":"device-AAAAAAAAAAAAAAAAAAAAA","userId":"","tags":["tag"],"mobile":"","email":"","gender":"GENDER_NOT_AVAILABLE","firstName":"","lastName":"","postalCode":"","optIns":["TERMS_AND_CONDITIONS"],"attributes":[],"macAddress":"00:00:5e:00:53:01","manufacturer":"","os":"Android","osVersion":"","type":"NOT_AVAILABLE","socialNetworkInfo":[],"deviceModel":""},"location":{"locationId":"location-00000001","name":"Floor 1","inferredLocationTypes":["FLOOR"],"parent":{"locationId":"location-00000002","name":"Building A","inferredLocationTypes":["NETWORK","BUILDING"],"parent":{"locationId":"location-00000003","name":"Campus","inferredLocationTypes":["CAMPUS"],"parent":{"locationId":"location-00000004","name":"Region","inferredLocationTypes":["CMX"],"parent":{"locationId":"location-00000005","name":"Root","inferredLocationTypes":["ROOT"],"sourceLocationId":"","apCount":100},"sourceLocationId":"","apCount":50},"sourceLocationId":"1000000000001","apCount":50},"sourceLocationId":"100000000000000001","apCount":50},"sourceLocationId":"100000000000000002","apCount":10},"ssid":"example-ssid","rawUserId":"","visitId":"visit-1000000000000000001","lastSeen":1699999999000,"deviceClassification":"","mapId":"","xPos":12.5,"yPos":34.25,"confidenceFactor":16.0,"latitude":-999.0,"longitude":-999.0,"unc":0.0,"maxDetectedRssi":-70,"ipv4":"192.0.2.10","ipv6":[]}}`
