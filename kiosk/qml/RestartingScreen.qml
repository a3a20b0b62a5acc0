// Shown while exhibitd is away (restarting, or not yet started): nothing to do but wait; the
// kiosk reconnects by itself.
import QtQuick

Rectangle {
    id: root
    objectName: "restartingScreen"
    color: Theme.background
    MouseArea { anchors.fill: parent }   // nothing underneath can be touched meanwhile
    Column {
        anchors.centerIn: parent
        width: parent.width * 0.7
        spacing: Theme.gap * 2
        Picture {
            anchors.horizontalCenter: parent.horizontalCenter
            width: Theme.px(300); height: Theme.px(300)
            kind: "restart"
        }
        Text {
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            font.family: Theme.family
            font.pixelSize: Theme.fontHuge
            font.bold: true
            color: Theme.text
            wrapMode: Text.WordWrap
            text: kiosk.link.everOnline ? qsTr("The kiosk is restarting") : qsTr("The kiosk is starting")
        }
        Body {
            width: parent.width
            horizontalAlignment: Text.AlignHCenter
            text: qsTr("Please wait: this takes a few seconds and needs nothing from you. Evidence already copied is safe. If this screen stays for more than two minutes, call the kiosk administrator.")
        }
    }
}
