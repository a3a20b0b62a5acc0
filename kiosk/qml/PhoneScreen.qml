// 4. Phone: the phones exhibitd sees, live, and what to do for the chosen one's state.
import QtQuick

Item {
    id: root
    objectName: "screen_phone"
    readonly property var devices: kiosk.devices

    Row {
        anchors { left: parent.left; right: parent.right; top: parent.top; bottom: nav.top; bottomMargin: Theme.gap }
        spacing: Theme.gap * 2
        Picture {
            objectName: "phonePicture"
            width: parent.width * 0.28
            height: parent.height
            kind: root.devices.picture
        }
        Column {
            width: parent.width * 0.68
            spacing: Theme.gap
            Text {
                objectName: "phoneName"
                width: parent.width
                font.family: Theme.family
                font.pixelSize: Theme.fontTitle
                font.bold: true
                color: Theme.text
                wrapMode: Text.WordWrap
                text: root.devices.chosenName.length > 0 ? root.devices.chosenName : qsTr("No phone yet")
            }
            Text {
                objectName: "phoneInstruction"
                width: parent.width
                font.family: Theme.family
                font.pixelSize: Theme.fontLarge
                color: root.devices.chosenState === "unsupported" || root.devices.removed ? Theme.danger : Theme.text
                font.bold: true
                wrapMode: Text.WordWrap
                text: root.devices.instruction
            }
            Text {
                width: parent.width
                visible: root.devices.count > 1
                font.family: Theme.family
                font.pixelSize: Theme.fontBody
                color: Theme.text
                text: qsTr("Phones plugged in:")
            }
            Repeater {
                model: root.devices.count > 1 ? root.devices : null
                delegate: Choice {
                    objectName: "device_" + index
                    width: parent.width
                    text: name + " — " + stateText
                    checked: path === root.devices.chosenPath
                    onClicked: root.devices.choose(path)
                }
            }
        }
    }
    NavBar {
        id: nav
        anchors { left: parent.left; right: parent.right; bottom: parent.bottom }
        nextEnabled: root.devices.chosenReady
        onNext: kiosk.next()
        onBack: kiosk.back()
    }
}
