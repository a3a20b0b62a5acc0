// The application window: full screen under cage, the whole UI inside.
import QtQuick
import QtQuick.Window

Window {
    id: window
    title: qsTr("exhibit kiosk")
    color: "#ffffff"
    width: 1920
    height: 1080
    KioskUi {
        anchors.fill: parent
    }
}
