// Back and Next at the foot of a screen.
import QtQuick

Item {
    id: bar
    property string nextText: qsTr("Next")
    property bool nextEnabled: true
    property bool showBack: true
    property bool showNext: true
    signal next()
    signal back()
    implicitHeight: Theme.target
    BigButton {
        objectName: "backButton"
        anchors.left: parent.left
        visible: bar.showBack
        primary: false
        text: qsTr("Back")
        onClicked: bar.back()
    }
    BigButton {
        objectName: "nextButton"
        anchors.right: parent.right
        visible: bar.showNext
        enabled_: bar.nextEnabled
        text: bar.nextText
        onClicked: bar.next()
    }
}
